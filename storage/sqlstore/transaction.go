package sqlstore

import (
	"context"
	"errors"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
)

// maxTxTries bounds how often a transaction is run when MySQL keeps
// choosing it as a deadlock victim.
const maxTxTries = 3

// transaction runs fn in a transaction. InnoDB resolves a deadlock by
// rolling one transaction back whole (error 1213): nothing of it remains,
// so it is run again, as MySQL's manual asks of applications. fn must
// therefore set whatever it reports afresh on every run. SQLite writers
// queue (serialize.go) and never deadlock.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for range maxTxTries {
		if err = s.db.WithContext(ctx).Transaction(fn); !isDeadlock(err) {
			return err
		}
	}
	return err
}

func isDeadlock(err error) bool {
	var myErr *gomysql.MySQLError
	return errors.As(err, &myErr) && myErr.Number == mysqlDeadlock
}
