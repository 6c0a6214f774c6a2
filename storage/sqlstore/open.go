package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"

	"github.com/shopauth/shopauth/storage"
)

// Options tunes a Store. The zero value is ready to use.
type Options struct {
	// Logger receives slow queries and unexpected SQL errors at warn level.
	// nil discards them.
	Logger *slog.Logger
	// MaxOpenConns caps the connection pool; a SQLite file has one writer
	// connection beside it (split.go). 0 picks a default per dialect:
	// 4 for SQLite (writers queue on one gate, see serialize.go; a few
	// connections keep WAL readers concurrent) and 16 for MySQL.
	MaxOpenConns int
}

// Store is the gorm-backed implementation of shopauth's storage contract
// (storage.Store). It is safe for concurrent use, also by several
// processes sharing one database.
type Store struct {
	db *gorm.DB
	// sql is db's pool, for the hot reads that bypass gorm (hotpath.go);
	// on a SQLite file, the readers' pool (split.go).
	sql *sql.DB
	// writer is a SQLite file's one writer connection (split.go); nil
	// when sql does everything.
	writer *sql.DB
	// checkpoints copies a SQLite file's WAL into the database beside the
	// writer (checkpoint.go); nil otherwise.
	checkpoints *checkpointer
	// rotations queues a SQLite store's refresh-token rotations for group
	// commit (rotations.go); nil on MySQL.
	rotations *rotationQueue
	dialect   string // "sqlite" or "mysql"
	log       *slog.Logger
	galera    bool // a Galera node: causal reads (galeraSyncWait)
}

var _ storage.Store = (*Store)(nil)

const (
	dialectSQLite = "sqlite"
	dialectMySQL  = "mysql"

	defaultSQLiteConns = 4
	defaultMySQLConns  = 16
	slowQuery          = 200 * time.Millisecond
)

// acceptedURLs names the accepted forms; errors never echo the URL, which may carry
// a password.
const acceptedURLs = "accepted forms: sqlite://PATH or mysql://USER:PASS@tcp(HOST:PORT)/DB?params"

// Open connects to databaseURL, which is sqlite://PATH (PATH may be
// relative, absolute as sqlite:///var/lib/x.db, or :memory:) or
// mysql://USER:PASS@tcp(HOST:PORT)/DB?params. It does not migrate: call
// Migrate.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	scheme, rest, ok := strings.Cut(databaseURL, "://")
	if !ok {
		return nil, fmt.Errorf("sqlstore: database URL has no scheme; %s", acceptedURLs)
	}

	var (
		connector driver.Connector
		writer    driver.Connector
		dialect   string
		maxConns  = opts.MaxOpenConns
		memory    bool
		// A SQLite file's write gate and its checkpointer's connection.
		gate            writeGate
		checkpointerDSN string
	)
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		dsn, inMemory, err := sqliteDSN(rest)
		if err != nil {
			return nil, err
		}
		if !inMemory {
			if err := createPrivateFile(strings.SplitN(dsn, "?", 2)[0]); err != nil {
				return nil, fmt.Errorf("sqlstore: create sqlite database file: %w", err)
			}
		}
		gate = newWriteGate()
		checkpointerDSN = dsn + checkpointerPragmas
		if connector, err = newSQLiteConnector(dsn+readerPragmas, gate); err != nil {
			return nil, fmt.Errorf("sqlstore: open sqlite database: %w", err)
		}
		if !inMemory {
			if writer, err = newSQLiteConnector(dsn+writerPragmas, gate); err != nil {
				return nil, fmt.Errorf("sqlstore: open sqlite database: %w", err)
			}
		}
		dialect, memory = dialectSQLite, inMemory
		if maxConns <= 0 {
			maxConns = defaultSQLiteConns
		}
	case "mysql":
		cfg, err := mysqlConfig(rest)
		if err != nil {
			return nil, err
		}
		c, err := gomysql.NewConnector(cfg)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: mysql URL: %w; %s", err, acceptedURLs)
		}
		connector, dialect = boundedConnector{c}, dialectMySQL
		if maxConns <= 0 {
			maxConns = defaultMySQLConns
		}
	default:
		return nil, fmt.Errorf("sqlstore: unsupported database URL scheme %q; %s", scheme, acceptedURLs)
	}
	if memory {
		// Every connection to :memory: opens its own empty database.
		maxConns = 1
	}
	s, err := open(ctx, connector, writer, dialect, maxConns, logger)
	if err != nil {
		return nil, err
	}
	if writer != nil {
		if s.checkpoints, err = startCheckpointer(checkpointerDSN, gate.released, logger); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("sqlstore: open sqlite database: %w", err)
		}
	}
	if dialect != dialectMySQL {
		return s, nil
	}
	return s.causalOnGalera(ctx, databaseURL, maxConns)
}

// galeraSyncWait is the wsrep_sync_wait every connection to a Galera node
// gets: reads (1) and UPDATE/DELETE (2) first wait until the node has
// applied everything the cluster committed before them. Galera applies
// another node's commits asynchronously; without it a client that rotated
// a refresh token through one node and presents the successor at once
// through another could find no successor (refused, the token lost), and
// a conditional UPDATE could match no row yet. Certification already
// orders conflicting writes; this makes reads causal.
// docs/operations.md ("Scale-out") states it.
const galeraSyncWait = "3"

// causalOnGalera reopens s with wsrep_sync_wait set on every connection
// when its server is a Galera node with replication on; otherwise it
// returns s. MySQL has no @@wsrep_on (the query fails) and a plain
// MariaDB has it OFF: both keep s. A database that cannot answer the
// question is storage.ErrUnavailable (serve's start-up waits and asks
// again): a Galera node must never be used without causal reads.
func (s *Store) causalOnGalera(ctx context.Context, databaseURL string, maxConns int) (*Store, error) {
	var on sql.NullInt64
	err := s.sql.QueryRowContext(ctx, "SELECT @@wsrep_on").Scan(&on)
	if err != nil && isUnavailable(err) {
		_ = s.Close()
		return nil, fmt.Errorf("sqlstore: ask whether the server is a Galera node: %w", convertErr(err))
	}
	if err != nil || on.Int64 != 1 {
		return s, nil
	}
	_, rest, _ := strings.Cut(databaseURL, "://")
	cfg, err := mysqlConfig(rest)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["wsrep_sync_wait"] = galeraSyncWait
	c, err := gomysql.NewConnector(cfg)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlstore: mysql URL: %w; %s", err, acceptedURLs)
	}
	_ = s.Close()
	g, err := open(ctx, boundedConnector{c}, nil, dialectMySQL, maxConns, s.log)
	if err != nil {
		return nil, err
	}
	g.galera = true
	return g, nil
}

// Galera reports whether the store's server is a Galera node (reads are
// then causal, see galeraSyncWait).
func (s *Store) Galera() bool { return s.galera }

// open builds a Store on connector's pool and checks that the database
// answers. With a writer connector (a SQLite file), writes and
// transactions go to one connection of it and connector's pool only reads
// (split.go).
func open(ctx context.Context, connector, writer driver.Connector, dialect string, maxConns int, logger *slog.Logger) (*Store, error) {
	sqlDB := sql.OpenDB(connector)
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	var (
		pool     gorm.ConnPool = retryPool{db: sqlDB}
		writerDB *sql.DB
	)
	if writer != nil {
		writerDB = sql.OpenDB(writer)
		writerDB.SetMaxOpenConns(1)
		writerDB.SetMaxIdleConns(1)
		pool = splitPool{read: retryPool{db: sqlDB}, write: retryPool{db: writerDB}}
	}
	closeAll := func() {
		_ = sqlDB.Close()
		if writerDB != nil {
			_ = writerDB.Close()
		}
	}
	var dialector gorm.Dialector
	if dialect == dialectMySQL {
		// Servers close idle connections (wait_timeout); recycle first.
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		dialector = mysql.New(mysql.Config{Conn: pool})
	} else {
		dialector = &sqlite.Dialector{Conn: pool}
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		Logger: newGormLogger(logger),
		// Times are stored in UTC with whole seconds: see dbTime.
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Second) },
		// Single statements need no transaction; the multi-row writes open
		// their own. This also keeps SQLite writers to one lock each.
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
	})
	if err != nil {
		closeAll()
		// The MySQL dialect asks the server's version on open.
		return nil, fmt.Errorf("sqlstore: open %s database: %w", dialect, convertErr(err))
	}
	s := &Store{db: db, sql: sqlDB, writer: writerDB, dialect: dialect, log: logger}
	if dialect == dialectSQLite {
		s.rotations = &rotationQueue{}
	}
	if err := s.Ping(ctx); err != nil {
		closeAll()
		return nil, err
	}
	return s, nil
}

// sqliteDSN builds the modernc.org/sqlite DSN. busy_timeout comes first so
// that switching a fresh file to WAL waits for a concurrent opener instead
// of failing. _txlock=immediate makes every write transaction take the
// write lock at BEGIN: a deferred transaction that reads and then writes
// fails under WAL with "database is locked (517)" whatever the timeout.
// _time_format=sqlite writes times as "2006-01-02 15:04:05.999999999-07:00",
// the form every row of an existing database holds (SQL compares them as
// text); DATETIME columns are read back as time.Time.
func sqliteDSN(rest string) (dsn string, memory bool, err error) {
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", false, fmt.Errorf("sqlstore: sqlite URL has no path; %s", acceptedURLs)
	}
	extra, err := url.ParseQuery(query)
	if err != nil {
		return "", false, fmt.Errorf("sqlstore: sqlite URL query: %w", err)
	}
	for _, reserved := range []string{"_time_format", "_txlock", "_texttotime"} {
		if extra.Has(reserved) {
			return "", false, fmt.Errorf("sqlstore: sqlite URL must not set %s", reserved)
		}
	}
	memory = path == ":memory:" || strings.Contains(query, "mode=memory")
	params := []string{
		"_pragma=busy_timeout(5000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		"_txlock=immediate",
		"_pragma=temp_store(MEMORY)",
		"_time_format=sqlite",
	}
	if query != "" {
		params = append(params, query)
	}
	return path + "?" + strings.Join(params, "&"), memory, nil
}

// createPrivateFile creates an empty database file readable by its owner
// only, unless the file exists (it keeps its mode). An empty file is a
// valid SQLite database; the driver would create it 0666 less the umask,
// and SQLite gives the -wal and -shm files beside it the database's mode.
// A "file:" URI is left to the driver.
func createPrivateFile(path string) error {
	if strings.HasPrefix(path, "file:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// mysqlConfig turns USER:PASS@tcp(HOST:PORT)/DB?params into a
// go-sql-driver configuration. parseTime and clientFoundRows are forced because the code depends on
// them (time columns scan into time.Time; RowsAffected counts matched rows,
// as on SQLite, so an UPDATE that changes nothing still proves the row
// exists). loc and charset default to UTC and utf8mb4.
func mysqlConfig(rest string) (*gomysql.Config, error) {
	cfg, err := gomysql.ParseDSN(rest)
	if err != nil {
		// ParseDSN's messages do not quote the DSN, so the password stays out.
		return nil, fmt.Errorf("sqlstore: mysql URL: %w; %s", err, acceptedURLs)
	}
	_, query, _ := strings.Cut(rest, "?")
	given, _ := url.ParseQuery(query)
	cfg.ParseTime = true
	cfg.ClientFoundRows = true
	// Without interpolation the driver sends every statement with
	// arguments as a server-side prepare, execute and close: two round
	// trips and a parse on the server, per statement. utf8mb4 is safe to
	// interpolate; the driver refuses a URL that pairs interpolation with
	// a collation where escaping is not (interpolateParams=false then
	// opts out). docs/performance.md.
	if !given.Has("interpolateParams") {
		cfg.InterpolateParams = true
	}
	if !given.Has("loc") {
		cfg.Loc = time.UTC
	}
	if !given.Has("charset") && cfg.Collation == "" {
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["charset"] = "utf8mb4"
	}
	return cfg, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range s.pools() {
		if err := db.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping %s database: %w", s.dialect, convertErr(err))
		}
	}
	return nil
}

// pools are the store's connection pools: one, or a SQLite file's readers
// and its writer.
func (s *Store) pools() []*sql.DB {
	if s.writer == nil {
		return []*sql.DB{s.sql}
	}
	return []*sql.DB{s.sql, s.writer}
}

// Close closes the connection pools.
func (s *Store) Close() error {
	var errs []error
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.Close())
	}
	for _, db := range s.pools() {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// Stats reports the connection pools' state, for metrics: a SQLite file's
// writer is added to its readers.
func (s *Store) Stats() sql.DBStats {
	st := s.sql.Stats()
	if s.writer != nil {
		w := s.writer.Stats()
		st.MaxOpenConnections += w.MaxOpenConnections
		st.OpenConnections += w.OpenConnections
		st.InUse += w.InUse
		st.Idle += w.Idle
		st.WaitCount += w.WaitCount
		st.WaitDuration += w.WaitDuration
		st.MaxIdleClosed += w.MaxIdleClosed
		st.MaxIdleTimeClosed += w.MaxIdleTimeClosed
		st.MaxLifetimeClosed += w.MaxLifetimeClosed
	}
	return st
}

// Dialect reports "sqlite" or "mysql".
func (s *Store) Dialect() string { return s.dialect }
