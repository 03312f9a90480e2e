package bot

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// SafeCell neutralises a CSV cell against spreadsheet formula injection: a cell that starts
// with =, +, -, @, a tab or a carriage return is what a spreadsheet may run as a formula, so
// it gets a leading apostrophe, which spreadsheets show as text. Every cell the bot writes
// from untrusted text goes through it.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeCSV renders a header and rows as CSV (comma separated, CRLF line ends as RFC 4180
// has them), every cell neutralised with SafeCell.
func writeCSV(header []string, rows [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	safe := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = SafeCell(c)
		}
		return out
	}
	// Writing to a bytes.Buffer cannot fail.
	_ = w.Write(safe(header))
	for _, r := range rows {
		_ = w.Write(safe(r))
	}
	w.Flush()
	return buf.Bytes()
}

// bulkCheckHeader names the columns of the file the bot answers a bulk check with.
var bulkCheckHeader = []string{
	"line", "org", "verdict", "problems",
	"users", "users source", "verified-domain", "verified-domain source",
	"claimed-domain", "claimed-domain source", "trial", "trial source",
	"licenses", "licenses source", "inactive-licenses", "inactive-licenses source",
	"predicted role", "precheck",
}

// BulkCheckCSV renders the results of a bulk check as the file the bot answers with: one row
// per input row, with its verdict, each criterion with its source, the predicted role, the
// precheck and every problem (separated by " | ").
func BulkCheckCSV(results []BulkResult) []byte {
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		org := r.OrgID
		if org == "" {
			org = r.Row.Values["org"]
		}
		row := []string{strconv.Itoa(r.Row.Line), org, string(r.Verdict), strings.Join(r.Problems, " | ")}
		if rep := r.Report; rep != nil {
			f := rep.Facts
			for _, x := range []Fact{f.Users, f.VerifiedDomain, f.ClaimedDomain, f.Trial, f.Licenses, f.InactiveLicensesOnly} {
				row = append(row, x.Value.String(), x.Source)
			}
			row = append(row, string(rep.Assessment.Role), bulkPrecheckCell(*rep))
		} else {
			row = append(row, make([]string, 14)...)
		}
		rows = append(rows, row)
	}
	return writeCSV(bulkCheckHeader, rows)
}

// bulkPrecheckCell is a report's precheck in one cell.
func bulkPrecheckCell(r Report) string {
	switch {
	case r.Precheck != nil:
		return "passed: " + r.Precheck.Message
	case r.PrecheckFailed():
		return fmt.Sprintf("refused (HTTP %d, trackingId %s)", r.PrecheckStatus, r.PrecheckTracking)
	default:
		return "not run: " + r.PrecheckSkipped
	}
}

// bulkProblemsShown bounds the problems the summary message lists; the file has them all.
const bulkProblemsShown = 10

// BulkCheckSummary is the message that comes with a bulk check's file: the counts, why rows
// are refused (grouped, most frequent first), and the first problems with their lines.
func BulkCheckSummary(results []BulkResult) string {
	counts := map[BulkVerdict]int{}
	reasons := map[string]int{}
	var first []string
	for _, r := range results {
		counts[r.Verdict]++
		for _, p := range r.Problems {
			reasons[bulkReasonGroup(p)]++
			if len(first) < bulkProblemsShown {
				first = append(first, fmt.Sprintf("- line %d: %s", r.Row.Line, Literal(p)))
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Check of %s**: nothing was changed.\n", plural(len(results), "row"))
	fmt.Fprintf(&b, "- would attach automatically: %d\n- need the customer admin's approval: %d\n- refused: %d\n",
		counts[BulkAutomatic], counts[BulkApproval], counts[BulkRefused])
	if len(reasons) > 0 {
		groups := make([]string, 0, len(reasons))
		for g := range reasons {
			groups = append(groups, g)
		}
		sort.Slice(groups, func(i, j int) bool {
			if reasons[groups[i]] != reasons[groups[j]] {
				return reasons[groups[i]] > reasons[groups[j]]
			}
			return groups[i] < groups[j]
		})
		b.WriteString("\nWhy rows are refused:\n")
		for _, g := range groups {
			fmt.Fprintf(&b, "- %s: %d\n", Literal(g), reasons[g])
		}
		b.WriteString("\nThe first problems:\n")
		b.WriteString(strings.Join(first, "\n"))
		b.WriteString("\n")
	}
	b.WriteString("\nThe attached file has one row per row of yours, with every criterion, its source and every problem.")
	return b.String()
}

// bulkReasonGroup names the group of a problem: the words before its first colon or
// parenthesis, or the problem itself, so "org is missing: …" and "org=x is not …" group
// by what they are about.
func bulkReasonGroup(p string) string {
	if i := strings.IndexAny(p, ":("); i > 0 {
		p = p[:i]
	}
	p = strings.TrimSpace(p)
	if k, _, ok := strings.Cut(p, "="); ok && !strings.Contains(k, " ") {
		return k + " is not valid"
	}
	return p
}
