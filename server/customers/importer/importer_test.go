package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopauth/shopauth/internal/fuzzdeadline"
)

const (
	bcryptHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	phpassHash = "$P$BlKZy/8a5XSdK6.8pAgdZhCvkv6h6w0"
	argonHash  = "$argon2id$v=19$m=1024,t=2,p=1$a0hrUm5WbWtIeVk1ZGJRSQ$tZbXzEJG0Lqc3OE082SM/pcUQZnA6Fjd4spvVZ1E9II"
)

var testNow = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

type result struct {
	rows []Row
	bad  []*RowError
	err  error
}

func readAll(t testing.TB, input string) result {
	t.Helper()
	r, err := NewReader(strings.NewReader(input), testNow)
	if err != nil {
		return result{err: err}
	}
	var res result
	for {
		row, err := r.Next()
		var rowErr *RowError
		switch {
		case errors.Is(err, io.EOF):
			return res
		case errors.As(err, &rowErr):
			res.bad = append(res.bad, rowErr)
		case err != nil:
			res.err = err
			return res
		default:
			res.rows = append(res.rows, row)
		}
	}
}

func TestCSV(t *testing.T) {
	input := "\xEF\xBB\xBFemail,name,password_hash,verified,customer_id,account_id,customer_reference,company_user_id\r\n" +
		"Sonia@Spryker.com,Sonia,\"" + bcryptHash + "\",1,21,21,DE--21,ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac\r\n" +
		"\r\n" +
		"wp@example.com,\"Smith, \"\"Jo\"\"\nsecond line\"," + phpassHash + ",no,,,,\r\n" +
		"argon@example.com,,\"" + argonHash + "\",,,,,\r\n"
	res := readAll(t, input)
	require.NoError(t, res.err)
	require.Empty(t, res.bad)
	require.Len(t, res.rows, 3)

	s := res.rows[0]
	require.Equal(t, 2, s.Line)
	require.Equal(t, "Sonia@Spryker.com", s.Customer.Email)
	require.Equal(t, "sonia@spryker.com", s.Customer.EmailNormalized)
	require.Equal(t, bcryptHash, s.Customer.PasswordHash)
	require.Equal(t, testNow, *s.Customer.EmailVerifiedAt)
	require.EqualValues(t, 21, s.Customer.ID)
	require.EqualValues(t, 21, s.Customer.AccountID)
	require.Equal(t, "DE--21", s.Customer.CustomerReference)
	require.Equal(t, "ebf4b55a-cab0-5ed0-8fb7-525a3eeedeac", s.Customer.CompanyUserID)

	wp := res.rows[1]
	require.Equal(t, 4, wp.Line, "a blank line still counts")
	require.Equal(t, "Smith, \"Jo\"\nsecond line", wp.Customer.Name)
	require.Nil(t, wp.Customer.EmailVerifiedAt)
	require.Zero(t, wp.Customer.ID)

	require.Equal(t, 6, res.rows[2].Line, "the quoted line break moved the count")
}

func TestCSVColumnsInAnyOrderAndOptional(t *testing.T) {
	res := readAll(t, "password_hash,EMAIL\n"+phpassHash+",a@example.com\n")
	require.NoError(t, res.err)
	require.Len(t, res.rows, 1)
	require.Equal(t, "a@example.com", res.rows[0].Customer.Email)
}

func TestJSONLines(t *testing.T) {
	input := `{"email":"sonia@spryker.com","name":"Sonia","password_hash":"` + bcryptHash + `","verified":true,"customer_id":21,"account_id":"21","customer_reference":"DE--21","company_user_id":null}` + "\n" +
		"\n" +
		`{"email":"wp@example.com","password_hash":"` + phpassHash + `","verified":"0"}` + "\r\n"
	res := readAll(t, input)
	require.NoError(t, res.err)
	require.Empty(t, res.bad)
	require.Len(t, res.rows, 2)
	require.EqualValues(t, 21, res.rows[0].Customer.ID)
	require.NotNil(t, res.rows[0].Customer.EmailVerifiedAt)
	require.Equal(t, 3, res.rows[1].Line)
	require.Nil(t, res.rows[1].Customer.EmailVerifiedAt)
}

func TestBadRowsAreReportedByLine(t *testing.T) {
	header := "email,name,password_hash,verified,customer_id\n"
	tests := []struct {
		name, input string
		line        int
		reason      string
	}{
		{"unknown hash format", header + "a@example.com,A,$1$md5crypt$abc,,\n", 2, "password_hash is not a supported hash"},
		{"plain text password", header + "a@example.com,A,secret123,,\n", 2, "password_hash is not a supported hash"},
		{"bcrypt cost too high", header + "a@example.com,A,$2y$20$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a,,\n", 2, "password_hash is not a supported hash"},
		{"missing hash", header + "a@example.com,A,,,\n", 2, "password_hash is missing"},
		{"missing email", header + ",A," + phpassHash + ",,\n", 2, "email is missing"},
		{"not an address", header + "not-an-email,A," + phpassHash + ",,\n", 2, "is not an e-mail address"},
		{"display name form", header + "\"Ann <a@example.com>\",A," + phpassHash + ",,\n", 2, "is not an e-mail address"},
		{"email too long", header + strings.Repeat("a", 250) + "@example.com,A," + phpassHash + ",,\n", 2, "email is longer than 255 bytes"},
		{"bad UTF-8 in CSV", header + "a@example.com,Jos\xe9," + phpassHash + ",,\n", 2, "name is not valid UTF-8"},
		{"bad verified", header + "a@example.com,A," + phpassHash + ",maybe,\n", 2, "verified must be"},
		{"negative id", header + "a@example.com,A," + phpassHash + ",,-3\n", 2, "customer_id must be a positive whole number"},
		{"zero id", header + "a@example.com,A," + phpassHash + ",,0\n", 2, "customer_id must be a positive whole number"},
		{"id over int64", header + "a@example.com,A," + phpassHash + ",,9223372036854775808\n", 2, "customer_id must be a positive whole number"},
		{"short row", header + "a@example.com,A\n", 2, "2 fields, the header has 5"},
		{"bare quote", header + "a@example.com,A\"x," + phpassHash + ",,\n", 2, "bare \" in non-quoted-field"},
		{"duplicate customer_id", header + "a@example.com,A," + phpassHash + ",,21\n" + "b@example.com,B," + phpassHash + ",,21\n", 3, "customer_id 21 appears already on line 2"},
		{"duplicate e-mail, other case", header + "a@example.com,A," + phpassHash + ",,\n" + "A@Example.COM,B," + phpassHash + ",,\n", 3, "appears already on line 2"},
		{"bad UTF-8 in JSON", "{\"email\":\"a@example.com\",\"name\":\"Jos\xe9\",\"password_hash\":\"" + phpassHash + "\"}\n", 1, "not valid UTF-8"},
		{"JSON unknown key", `{"email":"a@example.com","password":"x","password_hash":"` + phpassHash + `"}` + "\n", 1, `unknown key "password"`},
		{"JSON not an object", "{\"email\":\"a@example.com\"}\n[1,2]\n", 2, "not a JSON object"},
		{"JSON nested value", `{"email":{"x":1},"password_hash":"` + phpassHash + `"}` + "\n", 1, "email must be a string, number or boolean"},
		{"JSON key twice", `{"email":"a@example.com","password_hash":"` + phpassHash + `","email":"b@example.com"}` + "\n", 1, `key "email" given twice`},
		{"JSON key twice, same value", `{"email":"a@example.com","password_hash":"` + phpassHash + `","verified":true,"verified":true}` + "\n", 1, `key "verified" given twice`},
		{"JSON two values", `{"email":"a@example.com","password_hash":"` + phpassHash + `"} {}` + "\n", 1, "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, tt.input)
			require.NoError(t, res.err)
			require.NotEmpty(t, res.bad)
			last := res.bad[len(res.bad)-1]
			require.Equal(t, tt.line, last.Line, last.Error())
			require.Contains(t, last.Reason, tt.reason)
		})
	}
}

func TestEveryBadRowIsReportedAndGoodOnesStillRead(t *testing.T) {
	input := "email,password_hash\n" +
		"a@example.com," + phpassHash + "\n" +
		"bad,x\n" +
		"b@example.com," + bcryptHash + "\n" +
		"a@example.com," + bcryptHash + "\n" +
		"c@example.com,plain\n"
	res := readAll(t, input)
	require.NoError(t, res.err)
	require.Len(t, res.rows, 2)
	var lines []int
	for _, b := range res.bad {
		lines = append(lines, b.Line)
	}
	require.Equal(t, []int{3, 5, 6}, lines)
}

func TestUnreadableFiles(t *testing.T) {
	for name, input := range map[string]string{
		"empty":              "",
		"only a BOM":         "\xEF\xBB\xBF",
		"unknown column":     "email,password_hash,passwd\n",
		"no email column":    "name,password_hash\n",
		"column twice":       "email,password_hash,email\n",
		"CSV line too long":  "email,password_hash\n" + strings.Repeat("a", MaxLineBytes+10) + "\n",
		"JSON line too long": `{"email":"` + strings.Repeat("a", MaxLineBytes+10) + "\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			res := readAll(t, input)
			require.ErrorIs(t, res.err, ErrFormat)
		})
	}
}

// FuzzReader: no input makes the reader panic, loop or yield a row that
// breaks the invariants the import relies on.
func FuzzReader(f *testing.F) {
	f.Add("email,password_hash\na@example.com," + phpassHash + "\n")
	f.Add("\xEF\xBB\xBFemail,name,password_hash,verified\r\n\"x@y.z\",\"a\"\"b\"," + bcryptHash + ",1\r\n")
	f.Add(`{"email":"a@example.com","password_hash":"` + argonHash + `","customer_id":5}` + "\n")
	f.Add("email,password_hash\n\"unterminated\n")
	f.Add(`{"email":"a@example.com","email":"b@example.com","password_hash":"` + phpassHash + `"}` + "\n")
	f.Add(`{"email":"a@example.com","password_hash":"` + phpassHash + `"}}` + "\n")
	f.Fuzz(func(t *testing.T, input string) {
		fuzzdeadline.Run(t, func() {
			r, err := NewReader(strings.NewReader(input), testNow)
			if err != nil {
				return
			}
			for i := 0; ; i++ {
				require.Less(t, i, len(input)+2, "more results than lines")
				row, err := r.Next()
				var rowErr *RowError
				switch {
				case errors.As(err, &rowErr):
					require.Positive(t, rowErr.Line)
					continue
				case err != nil:
					return
				}
				c := row.Customer
				require.NotEmpty(t, c.EmailNormalized)
				require.LessOrEqual(t, len(c.Email), 255)
				require.Equal(t, strings.ToLower(c.Email), c.EmailNormalized)
				require.NotEmpty(t, c.PasswordHash)
				require.Positive(t, row.Line)
			}
		})
	})
}
