package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

// The organizations of the mixed bulk file: the partner cannot read them, so their facts are
// what the file declares.
const (
	bulkOrgAuto     = "0a6f4e0e-0d0e-4c55-9a5e-000000000001"
	bulkOrgApproval = "0a6f4e0e-0d0e-4c55-9a5e-000000000002"
	bulkOrgTrial    = "0a6f4e0e-0d0e-4c55-9a5e-000000000003"
)

func TestCheckBulkMixedFile(t *testing.T) {
	c := newCore(t)
	ctx := context.Background()
	// testOrg is a wholesale customer already.
	if _, err := c.partner.Provision(ctx, bot.CustomerRequest{OrgID: c.orgID, ExternalID: "earlier"}); err != nil {
		t.Fatal(err)
	}
	const common = "admin@customer.example;Standard;webex_meetings;Main St 1;Copenhagen;DK"
	file := "\ufefforg;admin;template;packages;street;city;country;users;verified-domain;claimed-domain;trial;name\r\n" +
		bulkOrgAuto + ";" + common + ";no;no;no;no;\"Auto; ApS\"\r\n" +
		bulkOrgApproval + ";" + common + ";no;yes;no;no;Approval\r\n" +
		bulkOrgTrial + ";" + common + ";no;no;no;yes;Trial\r\n" +
		testOrg + ";" + common + ";no;no;no;no;Existing\r\n" +
		"=1+2;;Standard;webex_meetings;Main St 1;Copenhagen;DK;no;no;no;no;\"=HYPERLINK(\"\"x\"\")\"\r\n" +
		bulkOrgAuto + ";" + common + ";no;no;no;no;Duplicate\r\n"
	rows, err := bot.ParseBulkCSV([]byte(file))
	if err != nil {
		t.Fatalf("ParseBulkCSV: %v", err)
	}
	results, err := c.bot.CheckBulk(ctx, rows, partnerMail)
	if err != nil {
		t.Fatalf("CheckBulk: %v", err)
	}
	type verdict struct {
		Line     int
		Verdict  bot.BulkVerdict
		Problems []string
	}
	var got []verdict
	for _, r := range results {
		got = append(got, verdict{r.Row.Line, r.Verdict, r.Problems})
	}
	want := []verdict{
		{2, bot.BulkAutomatic, nil},
		{3, bot.BulkApproval, nil},
		{4, bot.BulkRefused, []string{bot.TrialRule}},
		{5, bot.BulkRefused, []string{"already a wholesale customer (status provisioning, customer id customer-1)"}},
		{6, bot.BulkRefused, []string{
			"org==1+2 is not a Webex organization id: copy it from Control Hub > Account (a UUID, or the base64 id)",
			"admin is missing: the customer admin's email address"}},
		{7, bot.BulkRefused, []string{"the organization is on line 2 already"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if n := len(c.partner.Provisioned()); n != 1 {
		t.Errorf("after the check, %d customers; the check provisioned something", n)
	}

	summary := bot.BulkCheckSummary(results)
	for _, s := range []string{
		"**Check of 6 rows**: nothing was changed.",
		"- would attach automatically: 1\n- need the customer admin's approval: 1\n- refused: 4",
		"- admin is missing: 1", "- already a wholesale customer: 1", "- org is not valid: 1",
		"- line 7: the organization is on line 2 already",
	} {
		if !strings.Contains(summary, s) {
			t.Errorf("the summary lacks %q:\n%s", s, summary)
		}
	}

	records := readCSV(t, bot.BulkCheckCSV(results))
	if len(records) != len(rows)+1 {
		t.Fatalf("the answer file has %d records, want the header and %d rows", len(records), len(rows))
	}
	header := records[0]
	col := func(rec []string, name string) string {
		t.Helper()
		for i, h := range header {
			if h == name {
				return rec[i]
			}
		}
		t.Fatalf("no column %q in %q", name, header)
		return ""
	}
	gotCells := [][]string{}
	for _, rec := range records[1:] {
		gotCells = append(gotCells, []string{col(rec, "line"), col(rec, "org"), col(rec, "verdict"), col(rec, "verified-domain"), col(rec, "verified-domain source"), col(rec, "predicted role"), col(rec, "precheck")})
	}
	declared := "declared by " + partnerMail
	norm := func(org string) string {
		id, _ := bot.NormalizeOrgID(org)
		return id
	}
	wantCells := [][]string{
		{"2", norm(bulkOrgAuto), "automatic", "no", declared, "Provisioning Admin", "passed: success"},
		{"3", norm(bulkOrgApproval), "approval", "yes", declared, "Provisioning Admin", "passed: success"},
		{"4", norm(bulkOrgTrial), "refused", "no", declared, "Provisioning Admin", "passed: success"},
		{"5", c.orgID, "refused", "no", declared, "Full Admin", "passed: success"},
		{"6", "'=1+2", "refused", "", "", "", ""},
		{"7", norm(bulkOrgAuto), "refused", "", "", "", ""},
	}
	if diff := cmp.Diff(wantCells, gotCells); diff != "" {
		t.Errorf("answer file cells (-want +got):\n%s", diff)
	}
}

func TestCheckBulkStopsWithContext(t *testing.T) {
	c := newCore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rows := []bot.BulkRow{{Line: 2, Values: map[string]string{"org": testOrg, "admin": adminEmail, "template": "Standard",
		"packages": "webex_meetings", "street": "Main St 1", "city": "Copenhagen", "country": "DK"}}}
	if _, err := c.bot.CheckBulk(ctx, rows, partnerMail); err == nil {
		t.Error("CheckBulk with an ended context: no error")
	}
}
