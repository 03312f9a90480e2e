package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// BulkVerdict is what would happen to one row of a bulk file.
type BulkVerdict string

// The verdicts of a bulk row.
const (
	BulkAutomatic BulkVerdict = "automatic"
	BulkApproval  BulkVerdict = "approval"
	BulkRefused   BulkVerdict = "refused"
)

// BulkResult is the dry run of one row: its verdict, the report when Webex was asked, and
// every problem that refuses it (input problems, a duplicate organization, a trial, an
// existing wholesale customer, a refused precheck, a Webex error).
type BulkResult struct {
	Row      BulkRow
	OrgID    string
	Verdict  BulkVerdict
	Report   *Report
	Problems []string
	spec     AttachSpec // the row as the one-line attach reads it
}

// BulkCheckConcurrency bounds the rows checked at once: the concurrency of the partner
// client's calls in a bulk check. Each row makes a handful of partner
// calls; the partner client waits out Webex's 429s, so this bound only keeps the bot from
// starting more calls than Webex's rate limit lets through anyway.
const BulkCheckConcurrency = 4

// CheckBulk runs the dry run of `check` on every row of a bulk file and changes nothing.
// Each row is read with the one-line attach's rules (SpecFromArgs); a row whose organization
// an earlier row names already is refused without asking Webex. by is the partner admin who
// sent the file, the declarer of its facts. Rows come back in the file's order. Only ctx's
// end stops it: a Webex error refuses its row and the others go on.
func (b *Bot) CheckBulk(ctx context.Context, rows []BulkRow, by string) ([]BulkResult, error) {
	results := make([]BulkResult, len(rows))
	firstLine := map[string]int{}
	var todo []int
	for i, row := range rows {
		spec, problems := b.SpecFromArgs(row.Values, by)
		res := BulkResult{Row: row, OrgID: spec.OrgID, Problems: problems, spec: spec}
		if _, ok := NormalizeOrgID(row.Values["org"]); ok {
			if line, seen := firstLine[spec.OrgID]; seen {
				res.Problems = append(res.Problems, fmt.Sprintf("the organization is on line %d already", line))
			} else {
				firstLine[spec.OrgID] = row.Line
			}
		}
		results[i] = res
		if len(res.Problems) > 0 {
			results[i].Verdict = BulkRefused
			continue
		}
		todo = append(todo, i)
	}

	sem := make(chan struct{}, BulkCheckConcurrency)
	var wg sync.WaitGroup
	for _, i := range todo {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, fmt.Errorf("check bulk file: %w", ctx.Err())
		}
		wg.Go(func() {
			defer func() { <-sem }()
			b.checkBulkRow(ctx, &results[i])
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("check bulk file: %w", err)
	}
	return results, nil
}

// checkBulkRow asks Webex what `check` asks for one valid row and sets its verdict.
func (b *Bot) checkBulkRow(ctx context.Context, res *BulkResult) {
	req := res.spec.CustomerRequest()
	report, err := b.report(ctx, res.spec.OrgID, res.spec.Declared, &req)
	if err != nil {
		res.Verdict = BulkRefused
		res.Problems = append(res.Problems, bulkWebexProblem(err))
		return
	}
	res.Report = &report
	a := report.Assessment
	if a.Trial {
		res.Problems = append(res.Problems, TrialRule)
	}
	for _, c := range report.Existing {
		res.Problems = append(res.Problems, fmt.Sprintf("already a wholesale customer (status %s, customer id %s)", c.Status, c.ID))
	}
	if report.PrecheckFailed() {
		for _, d := range report.PrecheckErrors {
			res.Problems = append(res.Problems, fmt.Sprintf("precheck refused (HTTP %d): %s", report.PrecheckStatus, d.Description))
		}
	}
	switch {
	case len(res.Problems) > 0:
		res.Verdict = BulkRefused
	case a.ApprovalRequired:
		res.Verdict = BulkApproval
	default:
		res.Verdict = BulkAutomatic
	}
}

// bulkWebexProblem is a row's problem for a Webex error met while checking it: the status and
// trackingId of Webex's answer, or that Webex could not be reached. It is plain text, as every
// problem is.
func bulkWebexProblem(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		p := fmt.Sprintf("Webex could not be asked: it answered %d", apiErr.Status)
		if apiErr.TrackingID != "" {
			p += " (trackingId " + apiErr.TrackingID + ")"
		}
		return p + "; check this row again later"
	}
	return "Webex could not be asked (no answer); check this row again later"
}
