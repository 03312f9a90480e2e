package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxPages stops a list whose Link headers never end.
const maxPages = 10000

// pages fetches GET path?query and every page after it, following Link rel="next", and calls fn
// with each page's items until fn returns false or there is no next page.
//
// A next URL is followed exactly as Webex gave it (a relative one is resolved against the page
// it came with), but only to the base URL's scheme and host: the access token is not sent
// anywhere else.
func (c *Client) pages(ctx context.Context, path string, query url.Values, fn func(items []json.RawMessage) (bool, error)) error {
	r := request{method: http.MethodGet, path: path, query: query}
	current := c.baseURL.String() + "/" + path
	if len(query) > 0 {
		current += "?" + query.Encode()
	}
	seen := map[string]bool{current: true}
	for n := 1; ; n++ {
		resp, err := c.do(ctx, r)
		if err != nil {
			return err
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(resp.body, &page); err != nil {
			return fmt.Errorf("webex GET %s: decode the page: %w", c.displayPath(r), err)
		}
		more, err := fn(page.Items)
		if err != nil {
			return fmt.Errorf("webex GET %s: %w", c.displayPath(r), err)
		}
		if !more {
			return nil
		}
		next := nextLink(resp.header)
		if next == "" {
			return nil
		}
		next, err = c.nextURL(current, next)
		if err != nil {
			return fmt.Errorf("webex GET %s: %w", c.displayPath(r), err)
		}
		if seen[next] {
			return fmt.Errorf("webex GET %s: the next page %s was already fetched", c.displayPath(r), next)
		}
		if n >= maxPages {
			return fmt.Errorf("webex GET /%s: more than %d pages", path, maxPages)
		}
		seen[next] = true
		current = next
		r = request{method: http.MethodGet, url: next}
	}
}

// nextURL checks a Link next URL and makes a relative one absolute.
func (c *Client) nextURL(current, next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("the next page link: %w", err)
	}
	if !u.IsAbs() {
		cur, err := url.Parse(current)
		if err != nil {
			return "", fmt.Errorf("the current page URL: %w", err)
		}
		u = cur.ResolveReference(u)
		next = u.String()
	}
	if u.Scheme != c.baseURL.Scheme || u.Host != c.baseURL.Host {
		return "", errors.New("the next page link leaves the API host " + c.baseURL.Host + ": " + u.Scheme + "://" + u.Host)
	}
	return next, nil
}

// nextLink returns the rel="next" target of the response's Link headers (RFC 8288), or "".
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, link := range splitLinks(v) {
			target, params, ok := strings.Cut(link, ">")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") {
				continue
			}
			target = target[1:]
			for _, p := range strings.Split(params, ";") {
				name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(value), `"`)) {
					if strings.EqualFold(rel, "next") {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links (not those inside <>).
func splitLinks(v string) []string {
	var out []string
	inURL, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '<':
			inURL = true
		case '>':
			inURL = false
		case ',':
			if !inURL {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// list fetches every page of GET path?query and decodes the items as T.
func list[T any](ctx context.Context, c *Client, path string, query url.Values) ([]T, error) {
	var out []T
	err := c.pages(ctx, path, query, func(items []json.RawMessage) (bool, error) {
		for _, raw := range items {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return false, fmt.Errorf("decode an item: %w", err)
			}
			out = append(out, v)
		}
		return true, nil
	})
	return out, err
}
