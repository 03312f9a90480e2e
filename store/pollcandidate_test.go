package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

// pollCandidateSeeds are stored requests and odd JSON objects decodePollCandidate must read
// as json.Unmarshal does.
func pollCandidateSeeds(t testing.TB) [][]byte {
	t.Helper()
	at := time.Date(2026, 11, 30, 1, 2, 3, 4, time.UTC)
	r := bot.Request{ID: "R1", Created: at, Updated: at, NextPoll: at.Add(time.Hour), State: bot.StateProvisioning,
		Spec: bot.AttachSpec{CustomerName: `a "quoted" \ name, with {braces} [and] "nextPoll":"x"`}}
	stored, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		stored,
		[]byte(`{}`),
		[]byte(` { "ID" : "R2" , "nested" : {"nextPoll":"2020-01-01T00:00:00Z","id":"no"} , "created":"2026-01-01T00:00:00Z" } `),
		[]byte(`{"id":"R3","id":"R4","list":[1,{"a":[]},"]"],"n":-1.5e3,"t":true,"z":null,"nextPoll":"2026-02-01T00:00:00Z"}`),
		[]byte(`{"id":"R5","created":null}`),
		[]byte(`{"i\u0064":"R6"}`),
		[]byte(`{"id":"R7"`),
		[]byte(`{"id":"R8","created":12}`),
		[]byte(`[1,2]`),
		[]byte(`{"id":"R9"} x`),
	}
}

func TestDecodePollCandidate(t *testing.T) {
	for _, data := range pollCandidateSeeds(t) {
		checkPollCandidate(t, data)
	}
}

func FuzzDecodePollCandidate(f *testing.F) {
	for _, data := range pollCandidateSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(checkPollCandidate)
}

// checkPollCandidate checks that decodePollCandidate reads data as json.Unmarshal does, when
// data is valid JSON (of malformed data it must only fail or read something).
func checkPollCandidate(t *testing.T, data []byte) {
	t.Helper()
	var got, want pollCandidate
	gotErr := decodePollCandidate([]byte("k"), data, &got)
	wantErr := json.Unmarshal(data, &want)
	if !json.Valid(data) {
		return
	}
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decode %s: got error %v, want %v", data, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decode %s (-want +got):\n%s", data, diff)
	}
}
