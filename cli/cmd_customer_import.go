package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/shopauth/shopauth/server/customers/importer"
	"github.com/shopauth/shopauth/storage"
	"github.com/shopauth/shopauth/storage/sqlstore"
)

// importBatch is how many rows go into one UpsertCustomers transaction:
// large enough to amortise a commit, small enough to keep memory flat.
const importBatch = 1000

// importOptions are the flags of `customer import`.
type importOptions struct {
	shopKey     string
	file        string
	dryRun      bool
	skipInvalid bool
}

// importSummary is what an import did.
type importSummary struct {
	valid, invalid    int
	inserted, updated int
}

// customerUpserter is what an import needs from storage.
type customerUpserter interface {
	UpsertCustomers(ctx context.Context, cs []storage.Customer) (inserted, updated int, err error)
}

var _ customerUpserter = (*sqlstore.Store)(nil)

func (c *cli) customerImportCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import customers from CSV (with a header) or JSON lines, upserting by e-mail",
		Long: "Import customers from CSV with a header (" + strings.Join(importer.Columns, ",") + ") or JSON lines with those keys.\n" +
			"The file is checked whole first: every bad row is reported by line, and nothing is imported\n" +
			"from a file with bad rows unless --skip-invalid. Customers already in the shop (same e-mail)\n" +
			"are updated and keep their id; running the same file twice changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withStore(cmd.Context(), func(ctx context.Context, store *sqlstore.Store) error {
				if _, err := store.GetShop(ctx, o.shopKey); errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("no shop %q", o.shopKey)
				} else if err != nil {
					return err
				}
				sum, err := importCustomers(ctx, store, o, c.stdout, c.stderr, c.progressBar)
				if err != nil {
					return err
				}
				switch {
				case o.dryRun:
					_, err = fmt.Fprintf(c.stdout, "dry run: %d valid rows, %d invalid; nothing written\n", sum.valid, sum.invalid)
				default:
					_, err = fmt.Fprintf(c.stdout, "imported %d customers into shop %s (%d new, %d updated); %d invalid rows skipped\n",
						sum.inserted+sum.updated, o.shopKey, sum.inserted, sum.updated, sum.invalid)
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.shopKey, "shop", "", "shop key (required)")
	f.StringVar(&o.file, "file", "", "CSV or JSON-lines file (required)")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the file and report, write nothing")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "import the valid rows of a file that has invalid ones")
	_ = cmd.MarkFlagRequired("shop")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// progressBar returns a bar over size bytes on stderr when stderr is a
// terminal, and nil otherwise (pipes and logs get no control characters).
func (c *cli) progressBar(size int64) *progressbar.ProgressBar {
	f, ok := c.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionClearOnFinish(),
	)
}

// importCustomers runs an import in two passes over the file: the first
// validates every row and reports each bad one on errOut; the second, only
// when the file is clean (or skipInvalid) and not a dry run, upserts the
// valid rows in batches. Memory stays flat: one batch and one digest per
// e-mail at a time.
func importCustomers(ctx context.Context, store customerUpserter, o importOptions, out, errOut io.Writer,
	newBar func(size int64) *progressbar.ProgressBar) (importSummary, error) {
	var sum importSummary
	now := time.Now().UTC()
	err := eachRow(o.file, now, nil, func(importer.Row) error { sum.valid++; return nil },
		func(e *importer.RowError) error {
			sum.invalid++
			_, err := fmt.Fprintf(errOut, "%s: %s\n", o.file, e)
			return err
		})
	if err != nil {
		return sum, err
	}
	if sum.invalid > 0 && !o.skipInvalid && !o.dryRun {
		return sum, fmt.Errorf("%s has %d invalid rows; nothing imported (fix them, or --skip-invalid to import the %d valid ones)",
			o.file, sum.invalid, sum.valid)
	}
	if o.dryRun {
		return sum, nil
	}

	var bar *progressbar.ProgressBar
	if info, err := os.Stat(o.file); err == nil && newBar != nil {
		bar = newBar(info.Size())
	}
	batch := make([]storage.Customer, 0, importBatch)
	lines := make([]int, 0, importBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		defer func() { batch, lines = batch[:0], lines[:0] }()
		ins, upd, err := store.UpsertCustomers(ctx, batch)
		if errors.Is(err, storage.ErrConflict) && o.skipInvalid {
			// A customer_id that belongs to another customer fails its
			// batch; find the row, report it, import the rest.
			return upsertOneByOne(ctx, store, o.file, batch, lines, &sum, errOut)
		}
		if err != nil {
			return fmt.Errorf("%s lines %d-%d: %w (%d customers imported before them)",
				o.file, lines[0], lines[len(lines)-1], err, sum.inserted+sum.updated)
		}
		sum.inserted += ins
		sum.updated += upd
		return nil
	}
	err = eachRow(o.file, now, bar, func(row importer.Row) error {
		row.Customer.ShopKey = o.shopKey
		batch = append(batch, row.Customer)
		lines = append(lines, row.Line)
		if len(batch) == importBatch {
			return flush()
		}
		return nil
	}, func(*importer.RowError) error { return nil })
	if err == nil {
		err = flush()
	}
	if bar != nil {
		_ = bar.Finish()
	}
	return sum, err
}

// upsertOneByOne writes a failed batch row by row, reporting each row the
// database refuses as a conflict.
func upsertOneByOne(ctx context.Context, store customerUpserter, file string, batch []storage.Customer, lines []int, sum *importSummary, errOut io.Writer) error {
	for i, c := range batch {
		ins, upd, err := store.UpsertCustomers(ctx, []storage.Customer{c})
		if errors.Is(err, storage.ErrConflict) {
			sum.invalid++
			if _, err := fmt.Fprintf(errOut, "%s: line %d: customer_id %d belongs to another customer\n", file, lines[i], c.ID); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", file, lines[i], err)
		}
		sum.inserted += ins
		sum.updated += upd
	}
	return nil
}

// eachRow reads path and calls onRow for each valid row and onBad for each
// invalid one; any error they return stops the reading.
func eachRow(path string, now time.Time, bar *progressbar.ProgressBar, onRow func(importer.Row) error, onBad func(*importer.RowError) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := importer.NewReader(f, now)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for {
		row, err := r.Next()
		if bar != nil {
			_ = bar.Set64(r.BytesRead())
		}
		var bad *importer.RowError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &bad):
			if err := onBad(bad); err != nil {
				return err
			}
		case err != nil:
			return fmt.Errorf("%s: %w", path, err)
		default:
			if err := onRow(row); err != nil {
				return err
			}
		}
	}
}
