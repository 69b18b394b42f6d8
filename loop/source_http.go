package loop

// http(s)://, json:PATH@URL and prom:URL QUERY sources.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// srcBodyLimit bounds how much of a response body is read.
const srcBodyLimit = 1 << 20

type srcHTTP struct {
	client *http.Client
	url    string
	path   []string // JSON field path; nil means the body is a number
}

func srcParseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: want an http:// or https:// URL", srcClip(raw, 60))
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", srcClip(raw, 60))
	}
	return nil
}

func srcNewHTTP(raw, path string, opt SourceOptions) (Source, error) {
	if err := srcParseURL(raw); err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	s := &srcHTTP{client: opt.HTTPClient, url: raw}
	if path != "" {
		p, err := srcParseJSONPath(path)
		if err != nil {
			return nil, err
		}
		s.path = p
	}
	return s, nil
}

// srcNewJSON parses "FIELD.PATH@URL".
func srcNewJSON(rest string, opt SourceOptions) (Source, error) {
	path, raw, ok := strings.Cut(rest, "@")
	if !ok || strings.TrimSpace(path) == "" {
		return nil, errors.New("json: want json:FIELD.PATH@URL, e.g. json:data.queue[0].size@http://host/stats")
	}
	return srcNewHTTP(strings.TrimSpace(raw), strings.TrimSpace(path), opt)
}

// srcParseJSONPath splits "a.b[0].c" (or "a.b.0.c") into keys and indices.
func srcParseJSONPath(path string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(strings.ReplaceAll(path, "[", ".["), ".") {
		if part == "" {
			continue
		}
		if strings.HasPrefix(part, "[") {
			i := strings.TrimSuffix(part[1:], "]")
			if _, err := strconv.Atoi(i); err != nil || !strings.HasSuffix(part, "]") {
				return nil, fmt.Errorf("json: bad index %q in path %q", part, path)
			}
			part = i
		}
		out = append(out, part)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("json: empty path %q", path)
	}
	return out, nil
}

// get does one GET and returns the body of a 2xx answer.
func srcGet(ctx context.Context, client *http.Client, raw string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceHTTP, err)
	}
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSourceHTTP, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, srcBodyLimit))
	if err != nil {
		return nil, fmt.Errorf("%w: reading body: %w", ErrSourceHTTP, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, fmt.Errorf("%w: %s: %q", ErrSourceHTTP, resp.Status, srcClip(string(bytes.TrimSpace(body)), srcStderrKeep))
	}
	return body, nil
}

func (s *srcHTTP) Read(ctx context.Context, _ time.Time) (float64, error) {
	body, err := srcGet(ctx, s.client, s.url)
	if err != nil {
		return 0, err
	}
	if s.path == nil {
		return srcNumber(body, "body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return 0, fmt.Errorf("%w: body is not JSON: %w", ErrSourceParse, err)
	}
	return srcJSONField(doc, s.path)
}

// srcJSONField follows path into doc; the field must be a number, a numeric string or a
// boolean (1 or 0).
func srcJSONField(doc any, path []string) (float64, error) {
	at := doc
	for i, key := range path {
		where := strings.Join(path[:i+1], ".")
		switch v := at.(type) {
		case map[string]any:
			next, ok := v[key]
			if !ok {
				return 0, fmt.Errorf("%w: field %s not found", ErrSourceParse, where)
			}
			at = next
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(v) {
				return 0, fmt.Errorf("%w: field %s: no element %s in an array of %d", ErrSourceParse, where, key, len(v))
			}
			at = v[n]
		default:
			return 0, fmt.Errorf("%w: field %s: %s is not an object or array", ErrSourceParse, where, strings.Join(path[:i], "."))
		}
	}
	what := "field " + strings.Join(path, ".")
	switch v := at.(type) {
	case json.Number:
		f, err := srcParseFloat(string(v))
		if err != nil {
			return 0, fmt.Errorf("%w: %s %q", ErrSourceParse, what, v)
		}
		return srcCheckFinite(f, what)
	case string:
		return srcNumber([]byte(v), what)
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case nil:
		return 0, fmt.Errorf("%w: %s is null", ErrSourceParse, what)
	}
	return 0, fmt.Errorf("%w: %s is not a number", ErrSourceParse, what)
}

// srcProm runs an instant PromQL query: GET URL/api/v1/query?query=QUERY.
type srcProm struct {
	client *http.Client
	url    string // the full query URL
}

// srcNewProm parses "URL QUERY" (the first blank ends the URL).
func srcNewProm(rest string, opt SourceOptions) (Source, error) {
	base, query, ok := strings.Cut(strings.TrimSpace(rest), " ")
	query = strings.TrimSpace(query)
	if !ok || query == "" {
		return nil, errors.New("prom: want prom:URL QUERY, e.g. prom:http://prometheus:9090 sum(queue_length)")
	}
	if err := srcParseURL(base); err != nil {
		return nil, fmt.Errorf("prom: %w", err)
	}
	u, _ := url.Parse(base)
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/query"
	q := u.Query()
	q.Set("query", query)
	u.RawQuery = q.Encode()
	return &srcProm{client: opt.HTTPClient, url: u.String()}, nil
}

// srcPromAnswer is the envelope of /api/v1/query.
type srcPromAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func (s *srcProm) Read(ctx context.Context, _ time.Time) (float64, error) {
	body, err := srcGet(ctx, s.client, s.url)
	var ans srcPromAnswer
	if jerr := json.Unmarshal(body, &ans); jerr != nil {
		if err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("%w: prometheus answer is not JSON: %w", ErrSourceParse, jerr)
	}
	if ans.Status != "success" {
		return 0, fmt.Errorf("%w: prometheus: %s: %s", ErrSourceHTTP, ans.ErrorType, srcClip(ans.Error, srcStderrKeep))
	}
	if err != nil {
		return 0, err
	}
	var pair []any // [ <unix time>, "<value>" ]
	switch ans.Data.ResultType {
	case "scalar":
		if err := json.Unmarshal(ans.Data.Result, &pair); err != nil {
			return 0, fmt.Errorf("%w: prometheus scalar: %w", ErrSourceParse, err)
		}
	case "vector":
		var vec []struct {
			Value []any `json:"value"`
		}
		if err := json.Unmarshal(ans.Data.Result, &vec); err != nil {
			return 0, fmt.Errorf("%w: prometheus vector: %w", ErrSourceParse, err)
		}
		if len(vec) != 1 {
			return 0, fmt.Errorf("%w: the query returned %d series, want exactly 1 (aggregate it, e.g. sum(...))", ErrSourceParse, len(vec))
		}
		pair = vec[0].Value
	default:
		return 0, fmt.Errorf("%w: the query returned a %s, want an instant vector of one series or a scalar", ErrSourceParse, ans.Data.ResultType)
	}
	if len(pair) != 2 {
		return 0, fmt.Errorf("%w: prometheus sample has %d fields, want 2", ErrSourceParse, len(pair))
	}
	str, ok := pair[1].(string)
	if !ok {
		return 0, fmt.Errorf("%w: prometheus sample value is not a string", ErrSourceParse)
	}
	v, perr := srcParseFloat(str)
	if perr != nil {
		return 0, fmt.Errorf("%w: prometheus sample value %q", ErrSourceParse, srcClip(str, 60))
	}
	return srcCheckFinite(v, "prometheus sample value")
}
