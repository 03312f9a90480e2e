package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// csvContentType is the content type of the files the bot sends.
const csvContentType = "text/csv"

// CheckFile answers `check` with a CSV file attached: the dry run of every row, as a summary
// and a file with one row per input row. Nothing is changed. A file the bot cannot read (too
// large, not allowed, not CSV) gets an answer that says what to do; a Webex error that may
// pass is returned, so the event is tried again.
func (b *Bot) CheckFile(ctx context.Context, t *Turn) error {
	_, _, err := b.dryRunFile(ctx, t, "check")
	return err
}

// dryRunFile reads the turn's one CSV file and answers it with the dry run of every row (the
// summary and the file of `check`), and returns the results and the file's name; nil results mean the turn was
// answered already (the file could not be read, or what to do instead). verb is the command
// the file came with, for the answers that say how to send it again.
func (b *Bot) dryRunFile(ctx context.Context, t *Turn, verb string) ([]BulkResult, string, error) {
	if len(t.Files) != 1 {
		t.Replyf("Please attach one CSV file to `%s`.", verb)
		return nil, "", nil
	}
	f, err := b.webex.Download(ctx, t.Files[0], MaxBulkFileBytes)
	var apiErr *APIError
	switch {
	case errors.Is(err, ErrFileTooLarge):
		t.Replyf("Your file is larger than 5 MiB (%d bytes), so I did not read it. Split it into files of at most %d rows.", MaxBulkFileBytes, MaxBulkRows)
		return nil, "", nil
	case errors.As(err, &apiErr) && !apiErr.Temporary():
		t.Replyf("I could not download your file: Webex answered %d. Post it again in this space, as a CSV file attached to `%s`. %s",
			apiErr.Status, verb, trackingNote(apiErr.TrackingID))
		return nil, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("download the file to %s: %w", verb, err)
	}
	rows, err := ParseBulkCSV(f.Data)
	if err != nil {
		t.Reply("I could not read your file. " + Explain(err) + "\n\nThe first line names the columns: " + Code(strings.Join(BulkColumns(), ",")) + ".")
		return nil, "", nil
	}
	results, err := b.CheckBulk(ctx, rows, t.Actor.Email())
	if err != nil {
		return nil, "", err
	}
	t.Reply(BulkCheckSummary(results))
	t.ReplyFile("The check, row by row.", File{Name: "check-results.csv", ContentType: csvContentType, Data: BulkCheckCSV(results)})
	return results, f.Name, nil
}

// trackingNote names a trackingId for Cisco support, or nothing.
func trackingNote(trackingID string) string {
	if trackingID == "" {
		return ""
	}
	return "TrackingId for Cisco support: " + Code(trackingID) + "."
}

// exportHeader names the columns of `export`.
var exportHeader = []string{
	"id", "org", "company", "state", "webex status", "role", "errors",
	"created", "updated", "submitted", "trackingIds",
}

// Export answers `export [filter]` with a CSV file of the partner's requests, newest first,
// as `list` selects them: one row per request.
func (b *Bot) Export(ctx context.Context, t *Turn, filter string) error {
	filter = strings.ToLower(strings.TrimSpace(filter))
	states, ok := listStates(filter)
	if !ok {
		t.Replyf("export %s? Use one of: %s.", Literal(filter), strings.Join(listFilters, ", "))
		return nil
	}
	if filter == "" {
		filter = "all"
	}
	rs, err := b.db.Requests(ctx, RequestFilter{States: states})
	if err != nil {
		return fmt.Errorf("export requests: %w", err)
	}
	t.ReplyFile(fmt.Sprintf("**Attach requests (%s)**: %s, newest first.", filter, plural(len(rs), "request")),
		File{Name: "attach-requests-" + filter + ".csv", ContentType: csvContentType, Data: ExportCSV(rs)})
	return nil
}

// ExportCSV renders requests as the file `export` sends, every cell neutralised against
// formula injection.
func ExportCSV(rs []Request) []byte {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		var errs []string
		for _, e := range r.Errors {
			errs = append(errs, e.Description)
		}
		for _, p := range r.Packages {
			for _, e := range p.Errors {
				errs = append(errs, p.Name+": "+e.Description)
			}
		}
		var tracking []string
		for _, a := range r.Audit {
			if a.TrackingID != "" && !slices.Contains(tracking, a.TrackingID) {
				tracking = append(tracking, a.TrackingID)
			}
		}
		company := r.Spec.CustomerName
		if company == "" {
			company = r.OrgName
		}
		rows = append(rows, []string{
			r.ID, r.Spec.OrgID, company, string(r.State), r.WebexStatus, r.Role, strings.Join(errs, " | "),
			csvTime(r.Created), csvTime(r.Updated), csvTime(r.Submitted), strings.Join(tracking, " "),
		})
	}
	return writeCSV(exportHeader, rows)
}

// csvTime is a time in a CSV cell: RFC 3339 in UTC, or empty.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
