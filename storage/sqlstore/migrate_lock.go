package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// The MySQL migration lock. GET_LOCK alone is not enough: on a Galera
// cluster (wsrep on) it is local to the node, so two replicas migrating
// through two nodes both get it (checked on MariaDB 10.11 Galera 4; see
// TestMigrateGaleraNodes). The lock that counts is a lease on one row of
// schema_migration_lock: a conditional UPDATE, which Galera certifies
// cluster-wide (of two nodes' concurrent takes one commits, the other gets
// a deadlock error and tries again). The lease runs on the database's
// clock and is renewed while the migration runs; a migrator that died
// holding it is replaced once it expires. GET_LOCK is still taken first:
// it keeps binaries from before the lock row out, and on one server it
// queues waiters without polling.

const (
	// migrationLease is how long a taken lock row holds without renewal.
	migrationLease = 60 * time.Second
	// migrationLeaseRenewal is how often the holder renews it.
	migrationLeaseRenewal = 10 * time.Second
	// migrationLockPoll is how often a waiter tries the row again.
	migrationLockPoll = 500 * time.Millisecond
)

// errMigrationLockLost stops a migration whose lease another migrator
// took over (its renewals failed for longer than migrationLease).
var errMigrationLockLost = errors.New("migration lock lost: another migrator took it over")

// withMigrationLock runs fn on one connection while this process holds
// the migration lock. fn's context ends if the lease is lost.
func (s *Store) withMigrationLock(ctx context.Context, fn func(ctx context.Context, conn *gorm.DB) error) error {
	if err := s.db.WithContext(ctx).Exec(`CREATE TABLE IF NOT EXISTS schema_migration_lock (
	id INTEGER NOT NULL PRIMARY KEY,
	holder VARCHAR(64) NOT NULL,
	expires_at DATETIME NOT NULL
) ` + mysqlTableOptions).Error; err != nil {
		return fmt.Errorf("create schema_migration_lock: %w", err)
	}
	return s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		// Named per database, so test databases on one server do not wait
		// for each other.
		var got sql.NullInt64
		if err := conn.Raw("SELECT GET_LOCK(CONCAT('shopauth_migrate:', DATABASE()), ?)",
			int(migrationLockTimeout/time.Second)).Row().Scan(&got); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if !got.Valid || got.Int64 != 1 {
			return errors.New("take migration lock: timed out waiting for another migrator")
		}
		defer conn.Exec("SELECT RELEASE_LOCK(CONCAT('shopauth_migrate:', DATABASE()))")

		holder, err := randomHolder()
		if err != nil {
			return err
		}
		if err := s.takeMigrationLease(ctx, holder); err != nil {
			return err
		}
		runCtx, cancel := context.WithCancelCause(ctx)
		renewed := make(chan struct{})
		go func() {
			defer close(renewed)
			s.renewMigrationLease(runCtx, holder, cancel)
		}()
		// A fresh statement on the same connection: gorm keeps state such
		// as the table name of a Raw().Scan() in the session, and the
		// Migrator would then create every table under that name.
		err = fn(runCtx, conn.Session(&gorm.Session{NewDB: true, Context: runCtx}))
		if cause := context.Cause(runCtx); errors.Is(cause, errMigrationLockLost) && err != nil {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		cancel(nil)
		<-renewed
		// Released on a context of its own: a cancelled caller must not
		// leave the row held for a whole lease.
		releaseCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if rerr := s.db.WithContext(releaseCtx).Exec(
			"UPDATE schema_migration_lock SET holder = '', expires_at = UTC_TIMESTAMP() WHERE id = 1 AND holder = ?",
			holder).Error; rerr != nil && err == nil {
			err = fmt.Errorf("release migration lock: %w", rerr)
		}
		return err
	})
}

// takeMigrationLease waits until this holder has the lock row, for at
// most migrationLockTimeout.
func (s *Store) takeMigrationLease(ctx context.Context, holder string) error {
	deadline := time.Now().Add(migrationLockTimeout)
	for {
		ok, err := s.tryMigrationLease(ctx, holder)
		if err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("take migration lock: timed out waiting for another migrator (schema_migration_lock)")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(migrationLockPoll):
		}
	}
}

// tryMigrationLease takes the lock row if it is free or its lease ran out.
// A deadlock error (a Galera certification conflict with another node's
// take) counts as not taken.
func (s *Store) tryMigrationLease(ctx context.Context, holder string) (bool, error) {
	db := s.db.WithContext(ctx)
	err := db.Exec("INSERT IGNORE INTO schema_migration_lock (id, holder, expires_at) VALUES (1, '', UTC_TIMESTAMP())").Error
	if isRetryable(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res := db.Exec("UPDATE schema_migration_lock SET holder = ?, expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND "+
		"WHERE id = 1 AND (holder = '' OR expires_at < UTC_TIMESTAMP())", holder, int(migrationLease/time.Second))
	if isRetryable(res.Error) {
		return false, nil
	}
	if res.Error != nil {
		return false, res.Error
	}
	return res.RowsAffected == 1, nil
}

// renewMigrationLease extends the lease every migrationLeaseRenewal until
// ctx ends, and cancels it with errMigrationLockLost when the row names
// another holder. A failed renewal is tried again at the next tick: the
// lease outlasts several.
func (s *Store) renewMigrationLease(ctx context.Context, holder string, cancel context.CancelCauseFunc) {
	t := time.NewTicker(migrationLeaseRenewal)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := s.db.WithContext(ctx).Exec("UPDATE schema_migration_lock SET expires_at = UTC_TIMESTAMP() + INTERVAL ? SECOND "+
			"WHERE id = 1 AND holder = ?", int(migrationLease/time.Second), holder)
		if res.Error == nil && res.RowsAffected == 0 {
			cancel(errMigrationLockLost)
			return
		}
	}
}

func randomHolder() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("migration lock holder id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
