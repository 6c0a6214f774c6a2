package importer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopauth/shopauth/server/customers"
	"github.com/shopauth/shopauth/storage"
)

// Columns are the fields of an import row, in the order of the CSV header
// docs/design.md gives. Only email and password_hash are required.
var Columns = []string{"email", "name", "password_hash", "verified", "customer_id", "account_id", "customer_reference", "company_user_id"}

// MaxLineBytes bounds one line (one JSON object, one CSV record), so a
// file without line breaks cannot exhaust memory.
const MaxLineBytes = 64 << 10

// Column bounds, those of the customers table.
const (
	maxName      = 255
	maxReference = 64
)

// RowError is a bad row: its line in the file (the first line of a
// quoted multi-line CSV record) and what is wrong with it.
type RowError struct {
	Line   int
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ErrFormat is returned (wrapped) when the file itself cannot be read on:
// no header, an unknown column, a line over MaxLineBytes.
var ErrFormat = errors.New("importer: unreadable file")

// Row is one valid customer of the file. Customer has no ShopKey; ID is 0
// unless the row names a customer_id.
type Row struct {
	Line     int
	Customer storage.Customer
}

// Reader yields the rows of one file.
type Reader struct {
	next    func() (line int, fields map[string]string, err error)
	seen    map[[16]byte]int // digest of the normalized e-mail → first line
	ids     map[uint64]int   // customer_id → first line
	now     time.Time
	counter *countingReader
}

// NewReader sniffs the format from the first byte after an optional UTF-8
// byte-order mark: '{' is JSON lines, anything else CSV with a header.
// Verified rows get now as their verification time.
func NewReader(r io.Reader, now time.Time) (*Reader, error) {
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	}
	first, err := br.Peek(1)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty", ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	rd := &Reader{seen: map[[16]byte]int{}, ids: map[uint64]int{}, now: now, counter: counter}
	if first[0] == '{' {
		rd.next = jsonLines(br)
	} else if rd.next, err = csvRows(br); err != nil {
		return nil, err
	}
	return rd, nil
}

// BytesRead is how far into the input the reader is, for progress bars.
func (r *Reader) BytesRead() int64 { return r.counter.n }

// Next returns the next valid row; a *RowError for a bad row (call Next
// again for the one after it); io.EOF at the end; any other error when the
// file cannot be read on.
func (r *Reader) Next() (Row, error) {
	line, fields, err := r.next()
	if err != nil {
		return Row{}, err
	}
	c, reason := r.customer(fields)
	if reason != "" {
		return Row{}, &RowError{Line: line, Reason: reason}
	}
	digest := emailDigest(c.EmailNormalized)
	if first, dup := r.seen[digest]; dup {
		return Row{}, &RowError{Line: line, Reason: fmt.Sprintf("e-mail %s appears already on line %d", c.EmailNormalized, first)}
	}
	if first, dup := r.ids[c.ID]; dup && c.ID != 0 {
		return Row{}, &RowError{Line: line, Reason: fmt.Sprintf("customer_id %d appears already on line %d", c.ID, first)}
	}
	r.seen[digest] = line
	if c.ID != 0 {
		r.ids[c.ID] = line
	}
	return Row{Line: line, Customer: c}, nil
}

func emailDigest(email string) [16]byte {
	sum := sha256.Sum256([]byte(email))
	return [16]byte(sum[:16])
}

// customer validates one row; a non-empty reason says what is wrong.
func (r *Reader) customer(f map[string]string) (storage.Customer, string) {
	for _, col := range Columns {
		if !utf8.ValidString(f[col]) {
			return storage.Customer{}, col + " is not valid UTF-8"
		}
	}
	email := strings.TrimSpace(f["email"])
	switch {
	case email == "":
		return storage.Customer{}, "email is missing"
	case len(email) > customers.MaxEmailBytes:
		return storage.Customer{}, fmt.Sprintf("email is longer than %d bytes", customers.MaxEmailBytes)
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return storage.Customer{}, fmt.Sprintf("email %q is not an e-mail address", email)
	}
	hash := strings.TrimSpace(f["password_hash"])
	if hash == "" {
		return storage.Customer{}, "password_hash is missing"
	}
	if customers.CheckHashFormat(hash) != nil {
		return storage.Customer{}, "password_hash is not a supported hash (argon2id/argon2i PHC, bcrypt $2a$/$2b$/$2y$, phpass $P$/$H$)"
	}
	c := storage.Customer{
		Email:             email,
		EmailNormalized:   customers.NormalizeEmail(email),
		Name:              strings.TrimSpace(f["name"]),
		PasswordHash:      hash,
		CustomerReference: strings.TrimSpace(f["customer_reference"]),
		CompanyUserID:     strings.TrimSpace(f["company_user_id"]),
	}
	switch {
	case len(c.Name) > maxName:
		return storage.Customer{}, fmt.Sprintf("name is longer than %d bytes", maxName)
	case len(c.CustomerReference) > maxReference:
		return storage.Customer{}, fmt.Sprintf("customer_reference is longer than %d bytes", maxReference)
	case len(c.CompanyUserID) > maxReference:
		return storage.Customer{}, fmt.Sprintf("company_user_id is longer than %d bytes", maxReference)
	}
	verified, ok := parseBool(f["verified"])
	if !ok {
		return storage.Customer{}, fmt.Sprintf("verified must be true/false, 1/0, yes/no or empty, got %q", f["verified"])
	}
	if verified {
		at := r.now
		c.EmailVerifiedAt = &at
	}
	var err error
	if c.ID, err = parseID(f["customer_id"], false); err != nil {
		return storage.Customer{}, "customer_id " + err.Error()
	}
	if c.AccountID, err = parseID(f["account_id"], true); err != nil {
		return storage.Customer{}, "account_id " + err.Error()
	}
	return c, ""
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no", "n", "f":
		return false, true
	case "1", "true", "yes", "y", "t":
		return true, true
	}
	return false, false
}

// parseID reads an optional positive id; zeroOK also admits 0.
func parseID(s string, zeroOK bool) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	// Customer ids are token subjects; MySQL and SQLite store them as
	// signed 64-bit integers at most.
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil || (n == 0 && !zeroOK) {
		return 0, fmt.Errorf("must be a positive whole number, got %q", s)
	}
	return n, nil
}

// csvRows reads RFC 4180 CSV (quotes, CRLF) whose first record names the
// columns, in any order.
func csvRows(br *bufio.Reader) (func() (int, map[string]string, error), error) {
	cr := csv.NewReader(&lineLimiter{r: br})
	cr.FieldsPerRecord = -1 // a short row is a row error, reported below
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("%w: %w", ErrFormat, err)
		}
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	index := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !isColumn(name) {
			return nil, fmt.Errorf("%w: unknown column %q in the header (columns: %s)", ErrFormat, h, strings.Join(Columns, ","))
		}
		if have[name] {
			return nil, fmt.Errorf("%w: column %q twice in the header", ErrFormat, name)
		}
		have[name] = true
		index[i] = name
	}
	for _, required := range []string{"email", "password_hash"} {
		if !have[required] {
			return nil, fmt.Errorf("%w: the header has no %s column", ErrFormat, required)
		}
	}
	return func() (int, map[string]string, error) {
		for {
			record, err := cr.Read()
			var parseErr *csv.ParseError
			switch {
			case errors.Is(err, io.EOF):
				return 0, nil, io.EOF
			case errors.Is(err, errLineTooLong):
				return 0, nil, fmt.Errorf("%w: %w", ErrFormat, err)
			case errors.As(err, &parseErr):
				return 0, nil, &RowError{Line: parseErr.StartLine, Reason: parseErr.Err.Error()}
			case err != nil:
				return 0, nil, err
			}
			line, _ := cr.FieldPos(0)
			if len(record) == 1 && strings.TrimSpace(record[0]) == "" {
				continue // a blank line
			}
			if len(record) != len(index) {
				return 0, nil, &RowError{Line: line, Reason: fmt.Sprintf("%d fields, the header has %d", len(record), len(index))}
			}
			fields := make(map[string]string, len(index))
			for i, name := range index {
				fields[name] = record[i]
			}
			return line, fields, nil
		}
	}, nil
}

func isColumn(name string) bool {
	for _, c := range Columns {
		if c == name {
			return true
		}
	}
	return false
}

// jsonLines reads one JSON object per line. Values may be strings,
// numbers or booleans (verified: true, customer_id: 21).
func jsonLines(br *bufio.Reader) func() (int, map[string]string, error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	line := 0
	return func() (int, map[string]string, error) {
		for sc.Scan() {
			line++
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			fields, reason := decodeJSONObject(text)
			if reason != "" {
				return 0, nil, &RowError{Line: line, Reason: reason}
			}
			return line, fields, nil
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return 0, nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrFormat, line+1, MaxLineBytes)
			}
			return 0, nil, err
		}
		return 0, nil, io.EOF
	}
}

// decodeJSONObject reads one flat object token by token: encoding/json
// would keep the last of a key given twice without a word, and a row whose
// e-mail or hash depends on which copy wins is a bad row.
func decodeJSONObject(text []byte) (map[string]string, string) {
	if !utf8.Valid(text) {
		return nil, "the line is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	notObject := func(err error) (map[string]string, string) {
		if err == nil {
			return nil, "not a JSON object"
		}
		return nil, "not a JSON object: " + err.Error()
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return notObject(err)
	}
	fields := map[string]string{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notObject(err)
		}
		k, _ := tok.(string) // a key is always a string token
		if !isColumn(k) {
			return nil, fmt.Sprintf("unknown key %q (keys: %s)", k, strings.Join(Columns, ","))
		}
		if seen[k] {
			return nil, fmt.Sprintf("key %q given twice", k)
		}
		seen[k] = true
		tok, err = dec.Token()
		if err != nil {
			return notObject(err)
		}
		switch v := tok.(type) {
		case nil:
		case string:
			fields[k] = v
		case json.Number:
			fields[k] = v.String()
		case bool:
			fields[k] = strconv.FormatBool(v)
		default: // json.Delim: an object or array
			return nil, fmt.Sprintf("%s must be a string, number or boolean", k)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return notObject(err)
	}
	switch _, err := dec.Token(); {
	case err == nil:
		return nil, "more than one JSON value on the line"
	case !errors.Is(err, io.EOF):
		return notObject(err)
	}
	return fields, ""
}

var errLineTooLong = fmt.Errorf("a line is longer than %d bytes", MaxLineBytes)

// lineLimiter fails a read once MaxLineBytes pass without a line break:
// encoding/csv buffers a whole record and has no bound of its own.
type lineLimiter struct {
	r       *bufio.Reader
	sinceNL int
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.sinceNL = 0
		} else if l.sinceNL++; l.sinceNL > MaxLineBytes {
			return 0, errLineTooLong
		}
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
