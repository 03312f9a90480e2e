package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// Bulk files end to end: Ann drops a CSV file in the partner space with `check`, or asks
// for `export`, and gets a summary and a CSV file back.

// csvFile is a CSV file as a person attaches it.
func csvFile(name, content string) webextest.File {
	return webextest.File{Name: name, ContentType: "text/csv", Data: []byte(content)}
}

// fileReply returns the one reply that carries a file, parsed as CSV.
func (h *harness) fileReply(replies []webextest.Message) (webextest.Message, [][]string) {
	h.T.Helper()
	var found []webextest.Message
	for _, m := range replies {
		if len(m.Files) > 0 {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		h.T.Fatalf("%d replies with a file, want 1; replies:\n%s", len(found), apptest.Joined(replies))
	}
	f, ok := h.Sim.FileContent(found[0].Files[0])
	if !ok {
		h.T.Fatalf("the reply's file %s is not stored", found[0].Files[0])
	}
	return found[0], apptest.ParseCSV(h.T, f.Data)
}

// column returns the named column of CSV records (the header first).
func column(t *testing.T, records [][]string, name string) []string {
	t.Helper()
	return apptest.CSVColumn(t, records, name)
}

func TestCheckFileMixed(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	const address = "Storgata 1;Oslo;0155;NO"
	row := func(org, admin, facts string) string {
		return fmt.Sprintf("%s;%s;Standard;webex_meetings;%s;%s\r\n", org, admin, address, facts)
	}
	// A spreadsheet in a Danish locale: semicolons, a byte order mark, CRLF.
	file := "\ufefforg;admin;template;packages;street;city;zip;country;verified-domain;claimed-domain;trial\r\n" +
		row(webextest.SmallOrgID, webextest.SmallAdminEmail, "no;no;no") +
		row(webextest.BigOrgID, webextest.BigAdminEmail, "no;no;no") +
		row(webextest.TrialOrgID, webextest.TrialAdminEmail, "no;no;yes") +
		row(webextest.CustomerOrgID, webextest.CustomerAdminEmail, "no;no;no") +
		row("=cmd|' /C calc'!A0", "", "no;no;no") +
		row(webextest.SmallOrgID, webextest.SmallAdminEmail, "no;no;no")
	cmd := h.SayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", csvFile("orgs.csv", file))
	replies := h.RepliesTo(cmd)
	apptest.MustContain(t, "the check's summary", apptest.Joined(replies),
		"Check of 6 rows", "nothing was changed",
		"would attach automatically: 1", "need the customer admin's approval: 1", "refused: 4",
		"already a wholesale customer: 1", "admin is missing: 1",
		"line 7: the organization is on line 2 already")
	if n := len(h.provisionCalls()); n != 0 {
		t.Errorf("the check provisioned %d customers", n)
	}
	if n := len(h.Sim.CallsTo(http.MethodGet, "/v1/contents/*")); n != 1 {
		t.Errorf("the bot downloaded the file %d times, want once", n)
	}

	_, records := h.fileReply(replies)
	if len(records) != 7 {
		t.Fatalf("the answer file has %d records, want a header and 6 rows", len(records))
	}
	if diff := cmp.Diff([]string{"automatic", "approval", "refused", "refused", "refused", "refused"}, column(t, records, "verdict")); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if got := column(t, records, "org")[4]; got != "'=cmd|' /C calc'!A0" {
		t.Errorf("the formula row's org cell = %q, want it neutralised with a leading '", got)
	}
	problems := column(t, records, "problems")
	for i, want := range []string{"", "", "Converting trial", "already a wholesale customer", "admin is missing", "on line 2 already"} {
		if want == "" && problems[i] != "" || !strings.Contains(problems[i], want) {
			t.Errorf("row %d problems = %q, want %q", i+2, problems[i], want)
		}
	}
	if got := column(t, records, "users source")[1]; !strings.Contains(got, "GET /people?orgId=") {
		t.Errorf("the big org's users source = %q, want the count Webex gave", got)
	}
	if got := column(t, records, "predicted role")[0]; got != string(bot.RoleProvisioningAdmin) {
		t.Errorf("the small org's predicted role = %q", got)
	}
}

func TestCheckFileRefusals(t *testing.T) {
	tests := []struct {
		name  string
		file  webextest.File
		fault *webextest.Fault
		want  []string
	}{
		{name: "unknown columns are named", file: csvFile("x.csv", "org,colour,admin,shoe size\nA,red,b,42\n"),
			want: []string{"unknown columns “colour”, “shoe size”", "The first line names the columns"}},
		{name: "too large", file: csvFile("big.csv", "org\n"+strings.Repeat("x", bot.MaxBulkFileBytes)),
			want: []string{"larger than 5 MiB"}},
		{name: "too many rows", file: csvFile("long.csv", "org\n"+strings.Repeat("o\n", bot.MaxBulkRows+1)),
			want: []string{"more than 5000 rows"}},
		{name: "the bot cannot download it", file: csvFile("x.csv", "org\nA\n"),
			fault: &webextest.Fault{Method: http.MethodGet, Path: "/v1/contents/*", Status: http.StatusNotFound},
			want:  []string{"I could not download your file: Webex answered 404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, apptest.Options{})
			if tt.fault != nil {
				h.Sim.Inject(*tt.fault)
			}
			cmd := h.SayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", tt.file)
			replies := h.RepliesTo(cmd)
			apptest.MustContain(t, "the answer", apptest.Joined(replies), tt.want...)
			for _, m := range replies {
				if len(m.Files) > 0 {
					t.Errorf("a refused file got a file back: %+v", m)
				}
			}
		})
	}
}

func TestExportRoundTrips(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	h.attach(strings.Replace(attachLine(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings", "verified-domain=no claimed-domain=no"),
		`name="Nordlys AS"`, `name="=HYPERLINK(http://evil.example)"`, 1))
	h.attach(attachLine(webextest.BigOrgID, webextest.BigAdminEmail, "webex_meetings", ""))
	h.MustSweep()

	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "export")
	msg, records := h.fileReply(h.RepliesTo(cmd))
	apptest.MustContain(t, "the export's text", msg.Text, "Attach requests (all)", "2 requests")
	if len(records) != 3 {
		t.Fatalf("the export has %d records, want a header and 2 rows:\n%q", len(records), records)
	}
	want := []string{"id", "org", "company", "state", "webex status", "role", "errors", "created", "updated", "submitted", "trackingIds"}
	if diff := cmp.Diff(want, records[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	companies := column(t, records, "company")
	if !slices.Contains(companies, "'=HYPERLINK(http://evil.example)") {
		t.Errorf("companies %q: the formula is not neutralised", companies)
	}
	for _, id := range column(t, records, "id") {
		if len(id) != 6 {
			t.Errorf("request id %q in the export", id)
		}
	}
	states := column(t, records, "state")
	if !strings.Contains(strings.Join(states, " "), string(bot.StateAwaitingApproval)) {
		t.Errorf("states %q: the big org's request awaits approval", states)
	}

	cmd = h.Say(webextest.AnnID, webextest.PartnerSpaceID, "export failed")
	_, records = h.fileReply(h.RepliesTo(cmd))
	if len(records) != 1 {
		t.Errorf("export failed has %d records, want the header only", len(records))
	}
	cmd = h.Say(webextest.AnnID, webextest.PartnerSpaceID, "export everything")
	apptest.MustContain(t, "a wrong filter", apptest.Joined(h.RepliesTo(cmd)), "export everything? Use one of: all, pending")
}

func TestHelpListsBulk(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")
	apptest.MustContain(t, "help", apptest.Joined(h.RepliesTo(cmd)), "with a CSV file attached", "`export [all|pending|approvals|failed|done]`")
}

func TestBulkFileEdgeCases(t *testing.T) {
	const file = "org,admin,template,packages,street,city,country,verified-domain,claimed-domain\n" +
		webextest.SmallOrgID + "," + webextest.SmallAdminEmail + ",Standard,webex_meetings,Storgata 1,Oslo,NO,no,no\n"

	t.Run("a Webex error refuses its row, with the status", func(t *testing.T) {
		h := newHarness(t, apptest.Options{})
		h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/licenses", Status: http.StatusBadGateway})
		cmd := h.SayFile(webextest.AnnID, webextest.PartnerSpaceID, "check", csvFile("orgs.csv", file))
		replies := h.RepliesTo(cmd)
		apptest.MustContain(t, "the summary", apptest.Joined(replies), "refused: 1", "Webex could not be asked: it answered 502")
		_, records := h.fileReply(replies)
		if got := column(t, records, "problems"); len(got) != 1 || !strings.HasPrefix(got[0], "Webex could not be asked: it answered 502 (trackingId ") {
			t.Errorf("problems = %q, want the 502 with its trackingId", got)
		}
	})
	t.Run("check with a file and arguments", func(t *testing.T) {
		h := newHarness(t, apptest.Options{})
		cmd := h.SayFile(webextest.AnnID, webextest.PartnerSpaceID, "check "+webextest.SmallOrgID, csvFile("orgs.csv", file))
		apptest.MustContain(t, "the answer", apptest.Joined(h.RepliesTo(cmd)), "With a file, `check` takes no arguments")
	})
}

func TestCheckFileByAnOutsider(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	if err := h.Sim.AddMember(webextest.PartnerSpaceID, webextest.EveID); err != nil {
		t.Fatal(err)
	}
	cmd := h.SayFile(webextest.EveID, webextest.PartnerSpaceID, "check", csvFile("orgs.csv", "org\n"+webextest.SmallOrgID+"\n"))
	apptest.MustContain(t, "the answer", apptest.Joined(h.RepliesTo(cmd)), "I only take commands from the partner's Webex for Wholesale admins")
	if calls := h.Sim.CallsTo(http.MethodGet, "/v1/contents/*"); len(calls) != 0 {
		t.Errorf("the bot downloaded an outsider's file: %d calls", len(calls))
	}
}
