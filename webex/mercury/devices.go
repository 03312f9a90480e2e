package mercury

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// maxAnswer is the most of a REST answer the transport reads.
const maxAnswer = 4 << 20

// device is a Webex device registration, as the device service (WDM) answers it.
type device struct {
	URL          string `json:"url"`
	Name         string `json:"name"`
	WebSocketURL string `json:"webSocketUrl"`
	// UserID is the UUID of the device's user (the bot). The Webex Go SDK reads it from the
	// same answer; when it is absent, Options.BotPersonID alone identifies the bot.
	UserID string `json:"userId"`
}

// deviceRequest is the body that registers a device. The fields are those the Webex SDKs and
// webex_bot send; the service answers 400 "Missing Model" without model.
type deviceRequest struct {
	Name           string `json:"name"`
	Model          string `json:"model"`
	LocalizedModel string `json:"localizedModel"`
	SystemName     string `json:"systemName"`
	SystemVersion  string `json:"systemVersion"`
	DeviceType     string `json:"deviceType"`
}

// apiError is a failed REST call.
type apiError struct {
	Op      string
	Status  int
	Message string // Webex's message, when the body has one
}

func (e *apiError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s: HTTP %d: %s", e.Op, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
}

// statusOf returns the HTTP status of a failed call, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// call sends a REST request with the bot's token and decodes a 2xx JSON answer into v
// (unless v is nil).
func (t *Transport) call(ctx context.Context, op, method, u string, body, v any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s: encode the request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+t.opts.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s: read the answer: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb struct {
			Message string `json:"message"`
		}
		// A body that is not Webex's error shape leaves the message empty.
		_ = json.Unmarshal(b, &eb)
		return &apiError{Op: op, Status: resp.StatusCode, Message: eb.Message}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: the answer is not the expected JSON: %w", op, err)
	}
	return nil
}

// discover returns the device service: serviceLinks.wdm of the U2C catalog, or
// Options.FallbackWDMURL (and true) when the catalog cannot be read.
func (t *Transport) discover(ctx context.Context) (wdm string, fallback bool) {
	var catalog struct {
		ServiceLinks map[string]string `json:"serviceLinks"`
	}
	err := t.call(ctx, "read the service catalog", http.MethodGet, strings.TrimRight(t.opts.U2CURL, "/")+"/catalog?format=hostmap", nil, &catalog)
	if err == nil {
		if wdm := catalog.ServiceLinks["wdm"]; wdm != "" {
			return strings.TrimRight(wdm, "/"), false
		}
		err = errors.New("the service catalog has no serviceLinks.wdm")
	}
	t.log.Warn("service catalog unavailable; using the fallback device service", "fallback", t.opts.FallbackWDMURL, "err", err)
	return strings.TrimRight(t.opts.FallbackWDMURL, "/"), true
}

// ensureDevice returns the bot's device: the one named Options.DeviceName that is not stale,
// or a new one. Other devices of that name, left by earlier runs, are kept for deletion.
func (t *Transport) ensureDevice(ctx context.Context) (*device, error) {
	var list struct {
		Devices []*device `json:"devices"`
	}
	err := t.call(ctx, "list the devices", http.MethodGet, t.wdm+"/devices", nil, &list)
	if err != nil && statusOf(err) != http.StatusNotFound {
		// webex_bot reads a 404 as "no devices"; anything else leaves the list unknown,
		// and registering anyway could pile devices up.
		return nil, err
	}
	var found *device
	for _, d := range list.Devices {
		switch {
		case d.Name != t.opts.DeviceName || d.URL == "" || t.isStale(d):
		case found == nil && d.WebSocketURL != "":
			found = d
		default:
			t.stale = append(t.stale, d)
		}
	}
	if found != nil {
		t.log.Info("reusing the bot's device", "device", found.URL)
		return found, nil
	}
	req := deviceRequest{
		Name: t.opts.DeviceName, Model: "attachbot", LocalizedModel: "attachbot",
		SystemName: "attachbot", SystemVersion: "1", DeviceType: "DESKTOP",
	}
	var d device
	if err := t.call(ctx, "register a device", http.MethodPost, t.wdm+"/devices", req, &d); err != nil {
		return nil, fmt.Errorf("device registration refused by %s, so no events can come until it succeeds: %w", t.wdm, err)
	}
	if d.URL == "" || d.WebSocketURL == "" {
		return nil, errors.New("register a device: the answer has no url or webSocketUrl")
	}
	t.log.Info("device registered", "device", d.URL)
	return &d, nil
}

// isStale reports whether d is one of the devices kept for deletion.
func (t *Transport) isStale(d *device) bool {
	return slices.ContainsFunc(t.stale, func(s *device) bool { return s.URL == d.URL })
}

// deleteDevices deletes the devices kept for deletion and, with current, the device in use.
// A device the service no longer knows counts as deleted.
func (t *Transport) deleteDevices(ctx context.Context, current bool) error {
	if current && t.device != nil {
		t.stale = append(t.stale, t.device)
		t.device = nil
		t.setDevice(nil)
	}
	var errs []error
	kept := t.stale[:0]
	for _, d := range t.stale {
		err := t.call(ctx, "delete the device "+d.URL, http.MethodDelete, d.URL, nil, nil)
		if err != nil && statusOf(err) != http.StatusNotFound {
			errs = append(errs, err)
			kept = append(kept, d)
			continue
		}
		t.log.Info("device deleted", "device", d.URL)
	}
	t.stale = kept
	return errors.Join(errs...)
}
