package loop

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// srcTServer serves fixed answers by path on 127.0.0.1.
func srcTServer(t *testing.T, routes map[string]func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.HandleFunc(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func srcTReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestHTTPAndJSONSources(t *testing.T) {
	doc := `{"queue": {"size": 12, "name": "orders"}, "workers": [{"busy": 3}, {"busy": "4.5"}],
	         "ok": true, "none": null, "big": 1e400, "list": [1, 2]}`
	base := srcTServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"/num":   srcTReply(200, "12.5\n"),
		"/text":  srcTReply(200, "hello"),
		"/nan":   srcTReply(200, "NaN"),
		"/down":  srcTReply(503, "maintenance"),
		"/doc":   srcTReply(200, doc),
		"/notjs": srcTReply(200, "{"),
		"/slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
	})
	for _, c := range []struct {
		spec      string
		want      float64
		class     string
		fragments []string
	}{
		{base + "/num", 12.5, "", nil},
		{base + "/text", 0, MissParse, []string{`"hello"`}},
		{base + "/nan", 0, MissInvalid, nil},
		{base + "/down", 0, MissHTTP, []string{"503", "maintenance"}},
		{base + "/missing", 0, MissHTTP, []string{"404"}},
		{base + "/slow", 0, MissTimeout, nil},
		{"http://127.0.0.1:1/closed", 0, MissHTTP, []string{"refused"}},
		{"json:queue.size@" + base + "/doc", 12, "", nil},
		{"json:workers[0].busy@" + base + "/doc", 3, "", nil},
		{"json:workers.1.busy@" + base + "/doc", 4.5, "", nil}, // a numeric string is a number
		{"json:ok@" + base + "/doc", 1, "", nil},
		{"json:queue.name@" + base + "/doc", 0, MissParse, []string{"queue.name", `"orders"`}},
		{"json:queue.length@" + base + "/doc", 0, MissParse, []string{"queue.length not found"}},
		{"json:workers[2].busy@" + base + "/doc", 0, MissParse, []string{"no element 2"}},
		{"json:big@" + base + "/doc", 0, MissInvalid, []string{"Inf"}},
		{"json:none@" + base + "/doc", 0, MissParse, []string{"null"}},
		{"json:list@" + base + "/doc", 0, MissParse, []string{"not a number"}},
		{"json:queue.size.x@" + base + "/doc", 0, MissParse, []string{"not an object"}},
		{"json:queue.size@" + base + "/notjs", 0, MissParse, []string{"not JSON"}},
		{"json:queue.size@" + base + "/down", 0, MissHTTP, []string{"503"}},
	} {
		v, err := srcTRead(t, c.spec, SourceOptions{}, 300*time.Millisecond)
		srcTWant(t, c.spec, v, err, c.want, c.class, c.fragments...)
	}
}

// srcTProm is a fake Prometheus: /prom/api/v1/query answers by the query text, in the
// shapes of the real API.
func srcTProm(t *testing.T) string {
	answers := map[string]struct {
		status int
		body   string
	}{
		"up_one": {200, `{"status":"success","data":{"resultType":"vector","result":[
			{"metric":{"__name__":"queue","queue":"orders"},"value":[1700000000.123,"42.5"]}]}}`},
		"scalar(7)": {200, `{"status":"success","data":{"resultType":"scalar","result":[1700000000.123,"7"]}}`},
		"none":      {200, `{"status":"success","data":{"resultType":"vector","result":[]}}`},
		"two": {200, `{"status":"success","data":{"resultType":"vector","result":[
			{"metric":{"a":"1"},"value":[1700000000,"1"]},{"metric":{"a":"2"},"value":[1700000000,"2"]}]}}`},
		"nan":    {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"NaN"]}]}}`},
		"inf":    {200, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"+Inf"]}}`},
		"range":  {200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"1"]]}]}}`},
		"str":    {200, `{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}`},
		"bad((":  {400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error"}`},
		"slowly": {503, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`},
	}
	return srcTServer(t, map[string]func(http.ResponseWriter, *http.Request){
		"/prom/api/v1/query": func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				t.Errorf("method %s, want GET", r.Method)
			}
			a, ok := answers[r.URL.Query().Get("query")]
			if !ok {
				a.status, a.body = 500, "unexpected query "+r.URL.Query().Get("query")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(a.status)
			_, _ = w.Write([]byte(a.body))
		},
	}) + "/prom"
}

func TestPromSourceTakesOneSampleOrAScalar(t *testing.T) {
	base := srcTProm(t)
	for _, c := range []struct {
		query     string
		want      float64
		class     string
		fragments []string
	}{
		{"up_one", 42.5, "", nil},
		{"scalar(7)", 7, "", nil},
		{"none", 0, MissParse, []string{"0 series"}},
		{"two", 0, MissParse, []string{"2 series"}},
		{"nan", 0, MissInvalid, nil},
		{"inf", 0, MissInvalid, nil},
		{"range", 0, MissParse, []string{"matrix"}},
		{"str", 0, MissParse, []string{"string"}},
		{"bad((", 0, MissHTTP, []string{"bad_data", "parse error"}},
		{"slowly", 0, MissHTTP, []string{"timeout", "timed out"}},
	} {
		spec := "prom:" + base + " " + c.query
		v, err := srcTRead(t, spec, SourceOptions{}, 2*time.Second)
		srcTWant(t, spec, v, err, c.want, c.class, c.fragments...)
	}
	// A query with blanks and quotes reaches the server whole.
	spec := "prom:" + base + "/  sum(rate(x{job=\"a b\"}[5m]))"
	_, err := srcTRead(t, spec, SourceOptions{}, 2*time.Second)
	srcTWant(t, spec, 0, err, 0, MissHTTP, `sum(rate(x{job=\"a b\"}[5m]))`)
}

func TestHTTPSourceSpecErrors(t *testing.T) {
	for spec, fragment := range map[string]string{
		"json:@http://x/":           "json:FIELD.PATH@URL",
		"json:a.b":                  "json:FIELD.PATH@URL",
		"json:a[x]@http://x/":       "bad index",
		"json:a@ftp://x/":           "http:// or https://",
		"prom:http://x":             "prom:URL QUERY",
		"prom:localhost:9090 up":    "http:// or https://",
		"http://":                   "no host",
		"prom:http://x:9090/prom  ": "prom:URL QUERY",
	} {
		_, err := ParseSource(spec, SourceOptions{})
		if err == nil || !strings.Contains(err.Error(), fragment) {
			t.Errorf("ParseSource(%q) = %v, want an error mentioning %q", spec, err, fragment)
		}
	}
}
