package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopauth/shopauth/keys"
)

// scrapeCollector reads the values that have a source of truth elsewhere
// (the sql.DB pool, the key ring, the hashing pool) at scrape time, so
// nothing on a request path updates them.
type scrapeCollector struct {
	cfg                                         Config
	dbOpen, dbInUse, dbIdle, dbMaxOpen          *prometheus.Desc
	dbWaitCount, dbWait, keyAge, hashQueueDepth *prometheus.Desc
}

func newScrapeCollector(cfg Config) *scrapeCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &scrapeCollector{
		cfg:         cfg,
		dbOpen:      desc("db_open_connections", "Open database connections, in use or idle."),
		dbInUse:     desc("db_in_use_connections", "Database connections in use."),
		dbIdle:      desc("db_idle_connections", "Idle database connections."),
		dbMaxOpen:   desc("db_max_open_connections", "Maximum open database connections (the pool size)."),
		dbWaitCount: desc("db_wait_count_total", "Times a query waited for a free database connection."),
		dbWait:      desc("db_wait_seconds_total", "Time spent waiting for a free database connection."),
		keyAge: desc("signing_key_age_seconds",
			"Age of the key that signs tokens now (absent when none may sign).", "kid"),
		hashQueueDepth: desc("password_hash_queue_length",
			"Password verifications waiting for a slot in the hashing pool."),
	}
}

// Describe sends the descriptors of the metrics whose source is configured.
func (s *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	if s.cfg.DBStats != nil {
		for _, d := range []*prometheus.Desc{s.dbOpen, s.dbInUse, s.dbIdle, s.dbMaxOpen, s.dbWaitCount, s.dbWait} {
			ch <- d
		}
	}
	if s.cfg.Keys != nil {
		ch <- s.keyAge
	}
	if s.cfg.HashQueue != nil {
		ch <- s.hashQueueDepth
	}
}

// Collect reads every configured source once.
func (s *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if s.cfg.DBStats != nil {
		st := s.cfg.DBStats()
		gauge(s.dbOpen, float64(st.OpenConnections))
		gauge(s.dbInUse, float64(st.InUse))
		gauge(s.dbIdle, float64(st.Idle))
		gauge(s.dbMaxOpen, float64(st.MaxOpenConnections))
		ch <- prometheus.MustNewConstMetric(s.dbWaitCount, prometheus.CounterValue, float64(st.WaitCount))
		ch <- prometheus.MustNewConstMetric(s.dbWait, prometheus.CounterValue, st.WaitDuration.Seconds())
	}
	if s.cfg.Keys != nil {
		now := s.cfg.Now()
		for _, k := range s.cfg.Keys.List() {
			if k.State == keys.StateCurrent {
				gauge(s.keyAge, now.Sub(k.CreatedAt).Round(time.Second).Seconds(), k.KID)
			}
		}
	}
	if s.cfg.HashQueue != nil {
		gauge(s.hashQueueDepth, float64(s.cfg.HashQueue()))
	}
}
