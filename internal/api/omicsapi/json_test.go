package omicsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestTimeMarshal(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 1, 12, 4, 50, 33, 548e6, time.UTC), `"2024-01-12T04:50:33.548Z"`},
		{time.Date(2024, 1, 12, 4, 50, 33, 0, time.UTC), `"2024-01-12T04:50:33.000Z"`},
		{time.Date(2024, 1, 12, 4, 50, 33, 548999999, time.UTC), `"2024-01-12T04:50:33.548Z"`}, // truncated, never rounded into the next second
		{time.Date(2024, 1, 12, 6, 50, 33, 1e6, time.FixedZone("x", 2*3600)), `"2024-01-12T04:50:33.001Z"`},
	} {
		got, err := json.Marshal(NewTime(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("%v: got %s %v, want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestTimeUnmarshal(t *testing.T) {
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`"2024-01-02T03:04:05Z"`, want, true},                                 // botocore
		{`"2024-01-02T03:04:05.123Z"`, want.Add(123 * time.Millisecond), true}, // Go SDK
		{`"2024-01-02T03:04:05.123456Z"`, want.Add(123456 * time.Microsecond), true},
		{`"2024-01-02T05:04:05+02:00"`, want, true},
		{`"2024-01-01T22:04:05.5-05:00"`, want.Add(500 * time.Millisecond), true},
		{`null`, time.Time{}, true},
		{`1704164645`, time.Time{}, false}, // epoch numbers are not the wire form
		{`"2024-01-02 03:04:05"`, time.Time{}, false},
		{`"2024-01-02"`, time.Time{}, false},
		{`{}`, time.Time{}, false},
		{`"`, time.Time{}, false},
	} {
		var got Time
		err := got.UnmarshalJSON([]byte(tc.in))
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%s: got %v %v, want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "é ü 日本 🧬",
		"\u2028\u2029", "bad \xff utf8 \xc3", "<html> & </html>"} {
		var want string
		if err := json.Unmarshal(appendString(nil, s), &want); err != nil {
			t.Errorf("%q: %v", s, err)
		}
		if valid := strings.ToValidUTF8(s, "\uFFFD"); want != valid {
			t.Errorf("%q decoded as %q, want %q", s, want, valid)
		}
	}
}

// FuzzAppendString checks that every string encodes to JSON that decodes
// back to it (invalid UTF-8 as U+FFFD, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00", "\xff", "\u2028", "arn:aws:omics:us-east-1:123456789012:sequenceStore/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q encoded as invalid JSON %s: %v", s, enc, err)
		}
		want, _ := json.Marshal(s)
		var viaStd string
		json.Unmarshal(want, &viaStd)
		if got != viaStd {
			t.Fatalf("%q: decoded %q, encoding/json gives %q", s, got, viaStd)
		}
	})
}

// FuzzFastMatchers checks the hand-written matchers against the model's
// regular expressions they replace.
func FuzzFastMatchers(f *testing.F) {
	for _, s := range []string{"", "0", "1234567890", "12a", "arn:", "arn:x", "arn:x\ny", "name with spaces", "tab\t", "\xff", "é", "\u2028", "\x7f", "|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for src, fast := range fastMatchers {
			re := regexp.MustCompile(`^(?:` + src + `)$`)
			if got, want := fast(s), re.MatchString(s); got != want {
				t.Errorf("pattern %s on %q: fast %v, regexp %v", src, s, got, want)
			}
		}
	})
}

func TestFastMatchersOnEveryByte(t *testing.T) {
	for src, fast := range fastMatchers {
		re := regexp.MustCompile(`^(?:` + src + `)$`)
		for r := rune(0); r < 0x3000; r++ {
			for _, s := range []string{string(r), "arn:" + string(r), "a" + string(r) + "b"} {
				if got, want := fast(s), re.MatchString(s); got != want {
					t.Fatalf("pattern %s on %q: fast %v, regexp %v", src, s, got, want)
				}
			}
		}
	}
}

// TestAppendJSONRoundTrip fills every member of a response, encodes it with
// the generated encoder and decodes it with encoding/json: what comes back
// must equal what went in.
func TestAppendJSONRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range []any{
		&GetReadSetMetadataOutput{}, &ListReadSetsOutput{}, &GetSequenceStoreOutput{}, &GetReadSetImportJobOutput{},
		&ListReadSetUploadPartsOutput{}, &BatchDeleteReadSetOutput{}, &GetReferenceImportJobOutput{}, &ListTagsForResourceOutput{},
		&GetS3AccessPolicyOutput{}, &ListMultipartReadSetUploadsOutput{}, &CreateSequenceStoreOutput{},
	} {
		fill(reflect.ValueOf(v).Elem(), rng, 0)
		if reflect.ValueOf(v).Elem().IsZero() {
			t.Fatalf("%T: fill left it empty", v)
		}
		enc := v.(jsonAppender).appendJSON(nil)
		if testing.Verbose() {
			t.Logf("%T: %s", v, enc)
		}
		back := reflect.New(reflect.TypeOf(v).Elem())
		if err := json.Unmarshal(enc, back.Interface()); err != nil {
			t.Fatalf("%T: %v\n%s", v, err, enc)
		}
		if !reflect.DeepEqual(back.Interface(), v) {
			t.Errorf("%T: round trip changed the value\nencoded %s", v, enc)
		}
		// json.Marshal goes through the generated MarshalJSON.
		if std, _ := json.Marshal(v); !bytes.Equal(std, enc) {
			t.Errorf("%T: json.Marshal gives %s, appendJSON %s", v, std, enc)
		}
	}
}

// fill sets every field of v to a non-zero pseudo-random value.
func fill(v reflect.Value, rng *rand.Rand, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), rng, depth)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(NewTime(time.UnixMilli(rng.Int64N(4e12)).UTC())))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("json") != "-" {
				fill(v.Field(i), rng, depth+1)
			}
		}
	case reflect.String:
		if valuesOf := reflect.Zero(v.Type()).MethodByName("Values"); valuesOf.IsValid() { // an enum
			values := valuesOf.Call(nil)[0]
			v.Set(values.Index(rng.IntN(values.Len())))
			return
		}
		v.SetString(randomString(rng))
	case reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64N(1 << 31))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		n := 1 + rng.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(s.Index(i), rng, depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + rng.IntN(3) {
			m.SetMapIndex(reflect.ValueOf(randomString(rng)), reflect.ValueOf(randomString(rng)))
		}
		v.Set(m)
	}
}

func randomString(rng *rand.Rand) string {
	const alphabet = "abcXYZ019 _-\"\\\n\té日🧬/:"
	runes := []rune(alphabet)
	var b strings.Builder
	for range 1 + rng.IntN(12) {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	if !utf8.ValidString(b.String()) {
		panic("bad alphabet")
	}
	return b.String()
}

// FuzzRouter sends arbitrary requests through the router: it must never
// panic, and every answer is either a success of the matched operation or a
// well-formed error with a code.
func FuzzRouter(f *testing.F) {
	f.Add("GET", "/sequencestore/1234567890", "")
	f.Add("POST", "/sequencestore/1234567890/readsets?maxResults=5", `{"filter":{"createdAfter":"2024-01-02T03:04:05Z"}}`)
	f.Add("POST", "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A1%3AsequenceStore%2F1", `{"tags":{"a":"b"}}`)
	f.Add("DELETE", "/tags/arn%3Ax?tagKeys=a&tagKeys=b", "")
	f.Add("PUT", "/sequencestore/1234567890/upload/1234567890/part?partSource=SOURCE1&partNumber=1", "ACGT")
	f.Add("POST", "/sequencestore/1234567890/importjob", `{"roleArn":"arn:aws:iam::1:role/r","sources":[{"sourceFiles":{"source1":"s3://b/k"}}]}`)
	f.Add("PATCH", "/sequencestore/%zz", `{"fallbackLocation":""}`)
	h := NewRouter(&recordingHandler{}, RouterOptions{MaxBodyBytes: 1 << 16})
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
		req, err := newFuzzRequest(method, target, body)
		if err != nil {
			return // not a request net/http would hand to a handler
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if len(rec.Header().Get("X-Amzn-Requestid")) != 36 {
			t.Fatalf("no request id")
		}
		if rec.Code >= 300 {
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Type == "" || e.Type != rec.Header().Get("X-Amzn-Errortype") || e.Message == "" {
				t.Fatalf("%s %s: malformed error %d %q", method, target, rec.Code, rec.Body.String())
			}
		}
	})
}

var errBadFuzzRequest = errors.New("not a request net/http would pass on")

// newFuzzRequest builds a request, or fails where httptest.NewRequest would panic.
func newFuzzRequest(method, target, body string) (req *http.Request, err error) {
	defer func() {
		if recover() != nil {
			req, err = nil, errBadFuzzRequest
		}
	}()
	if !strings.HasPrefix(target, "/") {
		return nil, errBadFuzzRequest
	}
	return httptest.NewRequest(method, target, strings.NewReader(body)), nil
}
