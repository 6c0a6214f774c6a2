package sqlstore

import (
	"gorm.io/gorm"
)

// Schema version 21, frozen: refresh_tokens.predecessor_seal holds a
// successor encrypted under its predecessor (tokens.RefreshSecrets.Seal),
// so a retried rotation is answered with the same successor on any replica
// whatever key it derives successors with. 71 bytes today (nonce, 43-byte
// token, tag); NULL for a family's first token and for older rows. Added
// only if missing: resumable on MySQL, where the DDL commits on its own.

type v21RefreshToken struct {
	PredecessorSeal []byte `gorm:"column:predecessor_seal;type:varbinary(128)"`
}

func (v21RefreshToken) TableName() string { return "refresh_tokens" }

func migrateV21(tx *gorm.DB, dialect string) error {
	return addColumns(tx, dialect, &v21RefreshToken{}, "predecessor_seal")
}
