package webex

import (
	"context"
	"io"
	"net/http"

	"github.com/WebexCommunity/webex-go-sdk/v2/webexsdk"
)

// The status job polls thousands of customers per sweep, each with a GET: the request is
// built here, not by the SDK's request core, so that it costs a few allocations less and is
// the same on the wire.

// doBodiless sends r, a request without a body to a path under the base URL (a GET or a
// DELETE), with the URL and headers the SDK's request core gives it (Authorization, and
// Content-Type application/json, which the SDK sends on every request) and its TrackingID id
// set from the start, so that the transport sends it as it is instead of copying it to add
// one.
func (c *Client) doBodiless(ctx context.Context, sdk *webexsdk.Client, r request, id string) (*http.Response, error) {
	target := c.base + "/" + r.path
	if q := r.query.Encode(); q != "" {
		target += "?" + q
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, nil)
	if err != nil {
		return nil, err
	}
	req.Header = http.Header{
		"Authorization": {"Bearer " + sdk.GetAccessToken()},
		"Content-Type":  {"application/json"},
		"Trackingid":    {id},
	}
	return sdk.GetHTTPClient().Do(req)
}

// bodiless reports whether r is sent by doBodiless: it has no body of any kind and no
// absolute URL.
func (r request) bodiless() bool {
	return r.body == nil && r.form == nil && r.raw == nil && r.url == ""
}

// readBody reads a response body as io.ReadAll(io.LimitReader(body, limit)) would. A body
// whose length the response declares, below the limit, is read into one buffer of that
// size (and one byte more, for the end), instead of one grown from 512 bytes.
func readBody(body io.Reader, length, limit int64) ([]byte, error) {
	if length < 0 || length >= limit {
		return io.ReadAll(io.LimitReader(body, limit))
	}
	b := make([]byte, 0, length+1)
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) { // longer than declared: on to the limit
			rest, err := io.ReadAll(io.LimitReader(body, limit-int64(len(b))))
			return append(b, rest...), err
		}
	}
}
