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
	valid, invalid int
	storage.ImportResult
}

// customerUpserter is what an import needs from storage.
type customerUpserter interface {
	UpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error)
	PlanUpsertCustomers(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error)
}

var _ customerUpserter = (*sqlstore.Store)(nil)

func (c *cli) customerImportCommand() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import customers from CSV (with a header) or JSON lines, upserting by e-mail",
		Long: "Import customers from CSV with a header (" + strings.Join(importer.Columns, ",") + ") or JSON lines with those keys.\n" +
			"The file is checked whole first: every bad row is reported by line, and nothing is imported\n" +
			"from a file with bad rows unless --skip-invalid. A row whose customer_id disagrees with the\n" +
			"shop's customers is a bad row too. Customers already in the shop (same e-mail) keep their id\n" +
			"and take from the file only the fields shopauth has not changed since the last import (never\n" +
			"a password set or a verification made in shopauth; never disabled or enabled): running the\n" +
			"same file again changes nothing. See docs/operations.md.",
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
					_, err = fmt.Fprintf(c.stdout, "dry run: %d valid rows, %d invalid (%d new, %d updated, %d unchanged); nothing written\n",
						sum.valid, sum.invalid, sum.Inserted, sum.Updated, sum.Unchanged)
				default:
					_, err = fmt.Fprintf(c.stdout, "imported %d customers into shop %s (%d new, %d updated, %d unchanged); %d invalid rows skipped\n",
						sum.Inserted+sum.Updated+sum.Unchanged, o.shopKey, sum.Inserted, sum.Updated, sum.Unchanged, sum.invalid)
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

// importCustomers runs an import in two passes over the file. The first
// validates every row, and asks the store what each batch of valid rows
// would do (PlanUpsertCustomers), so that a row the store refuses — its
// customer_id disagrees with the shop's customers — is reported with the
// file's bad rows; a dry run stops there. The second, only when nothing
// was bad (or skipInvalid), upserts the rows in batches, leaving out the
// refused ones. A row refused only then (the database changed between the
// passes) is reported too, and fails the import unless skipInvalid. Memory
// stays flat: one batch, one digest per e-mail and the refused lines.
func importCustomers(ctx context.Context, store customerUpserter, o importOptions, out, errOut io.Writer,
	newBar func(size int64) *progressbar.ProgressBar) (importSummary, error) {
	var sum importSummary
	now := time.Now().UTC()
	report := func(line int, reason string) error {
		sum.invalid++
		_, err := fmt.Fprintf(errOut, "%s: line %d: %s\n", o.file, line, reason)
		return err
	}
	refused := map[int]bool{} // lines
	var planned storage.ImportResult
	check := batcher{store: store.PlanUpsertCustomers, onResult: func(res storage.ImportResult, lines []int) error {
		planned.Inserted += res.Inserted
		planned.Updated += res.Updated
		planned.Unchanged += res.Unchanged
		for _, r := range res.Refused {
			refused[lines[r.Index]] = true
			sum.valid--
			if err := report(lines[r.Index], r.Reason); err != nil {
				return err
			}
		}
		return nil
	}}
	err := eachRow(o.file, now, nil, func(row importer.Row) error {
		sum.valid++
		return check.add(ctx, o.shopKey, row)
	}, func(e *importer.RowError) error { return report(e.Line, e.Reason) })
	if err == nil {
		err = check.flush(ctx)
	}
	if err != nil {
		return sum, err
	}
	if o.dryRun {
		sum.ImportResult = planned
		return sum, nil
	}
	if sum.invalid > 0 && !o.skipInvalid {
		return sum, fmt.Errorf("%s has %d invalid rows; nothing imported (fix them, or --skip-invalid to import the %d valid ones)",
			o.file, sum.invalid, sum.valid)
	}

	var bar *progressbar.ProgressBar
	if info, err := os.Stat(o.file); err == nil && newBar != nil {
		bar = newBar(info.Size())
	}
	late := 0
	write := batcher{store: store.UpsertCustomers, onResult: func(res storage.ImportResult, lines []int) error {
		sum.Inserted += res.Inserted
		sum.Updated += res.Updated
		sum.Unchanged += res.Unchanged
		for _, r := range res.Refused {
			late++
			if err := report(lines[r.Index], r.Reason); err != nil {
				return err
			}
		}
		return nil
	}}
	err = eachRow(o.file, now, bar, func(row importer.Row) error {
		if refused[row.Line] {
			return nil
		}
		return write.add(ctx, o.shopKey, row)
	}, func(*importer.RowError) error { return nil })
	if err == nil {
		err = write.flush(ctx)
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return sum, fmt.Errorf("%w (%d customers imported before)", err, sum.Inserted+sum.Updated+sum.Unchanged)
	}
	if late > 0 && !o.skipInvalid {
		return sum, fmt.Errorf("%s: %d rows were refused while writing (the shop changed since the check); the other %d were imported",
			o.file, late, sum.Inserted+sum.Updated+sum.Unchanged)
	}
	return sum, nil
}

// importConflictTries bounds how often a batch is written again after
// storage.ErrConflict: a customer with one of its e-mails was created
// between the batch's read and its insert, and the next try sees it.
const importConflictTries = 3

// batcher collects rows into batches of importBatch and hands each batch
// to store, then its result to onResult with the batch's file lines.
type batcher struct {
	store    func(ctx context.Context, cs []storage.Customer) (storage.ImportResult, error)
	onResult func(res storage.ImportResult, lines []int) error
	batch    []storage.Customer
	lines    []int
}

func (b *batcher) add(ctx context.Context, shopKey string, row importer.Row) error {
	row.Customer.ShopKey = shopKey
	b.batch = append(b.batch, row.Customer)
	b.lines = append(b.lines, row.Line)
	if len(b.batch) == importBatch {
		return b.flush(ctx)
	}
	return nil
}

func (b *batcher) flush(ctx context.Context) error {
	if len(b.batch) == 0 {
		return nil
	}
	defer func() { b.batch, b.lines = b.batch[:0], b.lines[:0] }()
	var res storage.ImportResult
	var err error
	for range importConflictTries {
		if res, err = b.store(ctx, b.batch); !errors.Is(err, storage.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lines %d-%d: %w", b.lines[0], b.lines[len(b.lines)-1], err)
	}
	return b.onResult(res, b.lines)
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
