package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// InputError lists everything wrong with what a person typed or submitted.
type InputError struct {
	Problems []string
}

// Error implements error.
func (e *InputError) Error() string {
	return "invalid input: " + strings.Join(e.Problems, "; ")
}

// quoteTyped quotes what a person typed inside an input problem: “text”. A problem is plain
// text, and what shows it escapes it, Explain with Literal and a card as card text, so the
// typed text is never markup; Go's %q would show Go's escapes instead of the text.
func quoteTyped(s string) string {
	return "“" + s + "”"
}

// Explain says in a sentence or a short list what went wrong, for the person who asked. It
// is the one place where errors become user messages: input problems are listed, Webex's
// answers are quoted with their trackingId, and anything else is an internal error whose
// details are in the log.
func Explain(err error) string {
	var inputErr *InputError
	var apiErr *APIError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &inputErr):
		var b strings.Builder
		b.WriteString("Please fix this and try again:\n")
		for _, p := range inputErr.Problems { // plain sentences that quote what was typed
			fmt.Fprintf(&b, "- %s\n", Literal(p))
		}
		return strings.TrimRight(b.String(), "\n")
	case errors.Is(err, ErrOutcomeUnknown):
		return "Webex did not say whether the request went through. I will check before trying again, so nothing is done twice."
	case errors.As(err, &apiErr):
		return describeAPIError(apiErr)
	case errors.Is(err, context.DeadlineExceeded):
		return "Webex did not answer in time."
	default:
		return "Something went wrong on my side; the details are in attachbot's log."
	}
}

// describeAPIError quotes a Webex error answer for a person.
func describeAPIError(e *APIError) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Webex answered %d", e.Status)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", Literal(e.Message))
	}
	for _, d := range e.Details {
		if d.Description == "" || d.Description == e.Message {
			continue
		}
		if d.Code != 0 {
			fmt.Fprintf(&b, "\n- %s (code %d)", Literal(d.Description), d.Code)
		} else {
			fmt.Fprintf(&b, "\n- %s", Literal(d.Description))
		}
	}
	if e.TrackingID != "" {
		fmt.Fprintf(&b, "\nTrackingId for Cisco support: %s", Code(e.TrackingID))
	}
	return b.String()
}

// failureNotice tells a space that its command could not be processed at all.
func failureNotice(err error) string {
	text := "Sorry, I could not process that request. " + Explain(err)
	if isTemporary(err) {
		text += "\nI tried several times. Please try again later; if it keeps failing, status.webex.com may tell why."
	}
	return text
}

// unreadable reports whether err is Webex saying the partner may not read an organization
// (403 or 404): the fact is then unknown, which is not a failure.
func unreadable(err error) bool {
	s := apiStatus(err)
	return s == 403 || s == 404
}
