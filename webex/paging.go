package webex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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
	return c.walk(ctx, path, query, 0, fn)
}

// offsetPages is pages for a list that the spec documents as paged by offset and max (the
// wholesale customers): it asks for size items a page, follows Link rel="next" when Webex sends
// one, and otherwise asks for the next offset while a full page comes back. Once a page came
// with a Link, a page without one is the last.
func (c *Client) offsetPages(ctx context.Context, path string, query url.Values, size int, fn func(items []json.RawMessage) (bool, error)) error {
	query = cloneQuery(query)
	query.Set("max", strconv.Itoa(size))
	query.Del("offset")
	return c.walk(ctx, path, query, size, fn)
}

// cloneQuery returns a copy of q that may be changed.
func cloneQuery(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, vs := range q {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// walk is pages; a size above 0 turns on offset paging when no Link comes back.
func (c *Client) walk(ctx context.Context, path string, query url.Values, size int, fn func(items []json.RawMessage) (bool, error)) error {
	r := request{method: http.MethodGet, path: path, query: query}
	current := c.baseURL.String() + "/" + path
	if len(query) > 0 {
		current += "?" + query.Encode()
	}
	seen := map[string]bool{current: true}
	offset := 0
	linked := false // Webex links its pages: a page without a Link is the last
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
		offset += len(page.Items)
		next := nextLink(resp.header)
		linked = linked || next != ""
		if size > 0 && next == "" && !linked {
			if len(page.Items) < size {
				return nil // a short page is the last one
			}
			if n >= maxPages {
				return fmt.Errorf("webex GET /%s: more than %d pages", path, maxPages)
			}
			q := cloneQuery(query)
			q.Set("offset", strconv.Itoa(offset))
			r = request{method: http.MethodGet, path: path, query: q}
			current = c.baseURL.String() + "/" + path + "?" + q.Encode()
			continue
		}
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
	err := c.pages(ctx, path, query, collect(&out))
	return out, err
}

// offsetList is list for a list paged by offset and max (see offsetPages).
func offsetList[T any](ctx context.Context, c *Client, path string, query url.Values, size int) ([]T, error) {
	var out []T
	err := c.offsetPages(ctx, path, query, size, collect(&out))
	return out, err
}

// collect returns a page function that decodes every item as T into out.
func collect[T any](out *[]T) func(items []json.RawMessage) (bool, error) {
	return func(items []json.RawMessage) (bool, error) {
		for _, raw := range items {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return false, fmt.Errorf("decode an item: %w", err)
			}
			*out = append(*out, v)
		}
		return true, nil
	}
}
