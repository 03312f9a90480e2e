package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// requestIDAlphabet is the alphabet of request ids: letters and digits without look-alikes
// (no I, L, O, U, 0 or 1).
const requestIDAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// requestIDLength is how many characters a request id has.
const requestIDLength = 6

// ParseRequestID returns a typed request id in its stored form (upper case, without a
// leading "#"), and whether it is one: requestIDLength characters of requestIDAlphabet.
// Anything else is not echoed back to anyone, since it is text a person typed or a card
// carried.
func ParseRequestID(s string) (string, bool) {
	id := NormalizeRequestID(s)
	if len(id) != requestIDLength {
		return "", false
	}
	for _, c := range []byte(id) {
		if strings.IndexByte(requestIDAlphabet, c) < 0 {
			return "", false
		}
	}
	return id, true
}

// notARequestID answers a command whose request id is malformed, without repeating it.
const notARequestID = "That is not a request id: an id is 6 letters and digits, such as `K7QM2X`. `status` lists this space's requests."

// damagedCard answers a card submission whose request id is malformed.
const damagedCard = "This card is damaged or out of date, so I did nothing. Type `help` to see what I can do."

// RequestForCommand loads the request a `<command> <id>` names, for a command that may act
// only in the request's own space or in an admin space (Config.AdminSpaces). Every such
// command (status, cancel, remind, retry) calls it first: when it returns ok false it has
// already answered the turn (a malformed id, an unknown request, or the wrong space), and the
// command must do nothing more. Elsewhere than in the request's space it says where to ask,
// without showing anything of the request.
func (b *Bot) RequestForCommand(ctx context.Context, t *Turn, rawID string) (r Request, ok bool, err error) {
	id, valid := ParseRequestID(rawID)
	if !valid {
		t.Reply(notARequestID)
		return Request{}, false, nil
	}
	r, err = b.db.Request(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		t.Reply(unknownRequest(id))
		return Request{}, false, nil
	case err != nil:
		return Request{}, false, fmt.Errorf("load request %s: %w", id, err)
	}
	if !b.mayActOn(t.RoomID, r) {
		b.log.Warn("request command refused outside the request's space", "request", id, "room_id", t.RoomID, "person_email", t.Actor.Email())
		t.Replyf("Request %s was made in another space: ask about it in the space where it was requested, or in a space the operator lists in ADMIN_SPACES.", id)
		return Request{}, false, nil
	}
	return r, true, nil
}

// mayActOn reports whether a command in roomID may see or change request r: in the room
// where it was made, or in an admin space.
func (b *Bot) mayActOn(roomID string, r Request) bool {
	return roomID != "" && (roomID == r.RoomID || slices.Contains(b.cfg.AdminSpaces, roomID))
}

// unknownRequest answers a command about a request id that names no request.
func unknownRequest(id string) string {
	return fmt.Sprintf("I don't know request %s. `status` lists this space's requests.", id)
}

// commandOutcome answers the outcome of a command's update of request id: an unknown request
// and the problem the update found are told, any other error is returned, wrapped with what
// the command does. It reports whether the update went through.
func commandOutcome(t *Turn, verb, id string, err error, problem string) (bool, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		t.Reply(unknownRequest(id))
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s %s: %w", verb, id, err)
	case problem != "":
		t.Reply(problem)
		return false, nil
	}
	return true, nil
}
