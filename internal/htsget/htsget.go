// Package htsget serves read sets by the GA4GH htsget 1.3 protocol
// (reads): a ticket for a read set, or for regions of it, lists the parts
// of the stored file a client fetches and concatenates into a valid file
// holding the regions' records. It is the protocol alone — the ticket
// method by GET and POST, its parameters and the spec's JSON errors, and
// the data method that serves the ticket's byte ranges — over a narrow
// Store that finds read sets and says which bytes hold what (package
// regions reads that from a BAM's or CRAM's index). Who asks for
// a ticket comes from an Authenticate function; the data URLs a ticket
// hands out carry their own short-lived HMAC token instead, because
// htsget clients such as htslib cannot sign requests.
package htsget

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/format/regions"
)

// Prefix is where htsget's paths start on the listener it shares:
// Prefix+"reads/{id}" for tickets and Prefix+"data/{id}" for their data.
const Prefix = "/htsget/"

// JSONType is the media type of tickets and errors.
const JSONType = "application/vnd.ga4gh.htsget.v1.3.0+json"

// Formats of read sets.
const (
	FormatBAM  = "BAM"
	FormatCRAM = "CRAM"
)

// Region, Range and Slice are the regions package's: a Store's Slice
// answers with what that package finds in a BAM's or CRAM's index, and
// htsget hands it out as it is.
type (
	// Region is a stretch of one reference: Reference "*" asks for the
	// unplaced unmapped reads. End is -1 for the reference's end.
	Region = regions.Region
	// Range is a stretch [Start, End) of a read set's stored file, in
	// positions of the Store's choosing (for BAM, virtual offsets), which
	// ReadSet.Open understands.
	Range = regions.Range
	// Slice is what a client fetches, in order, for a request: the
	// header, the parts that hold the records, and the bytes that end the
	// file (Trailer, appended verbatim).
	Slice = regions.Slice
)

// ReadSet is a stored read set as htsget serves it.
type ReadSet struct {
	Format string
	// Slice returns the parts of the stored file that hold the header
	// and the records of regions, all records when regions is nil. Errors
	// wrapping ErrUnknownReference, ErrNoIndex or ErrPastEnd are the
	// client's. It
	// is nil for a format not served.
	Slice func(ctx context.Context, regions []Region) (*Slice, error)
	// Open reads what a Range of a Slice holds, as a client is to get it.
	Open func(ctx context.Context, start, end int64) (io.ReadCloser, error)
}

// Errors a Store returns.
var (
	ErrNotFound         = errors.New("htsget: no such read set")
	ErrUnknownReference = regions.ErrUnknownReference
	ErrNoIndex          = regions.ErrNoIndex
	ErrPastEnd          = regions.ErrPastEnd
)

// Store finds read sets.
type Store interface {
	// ReadSet returns read set id among those account may read.
	ReadSet(ctx context.Context, account, id string) (*ReadSet, error)
}

// Handler answers htsget requests under Prefix.
type Handler struct {
	Store Store
	// Authenticate returns the caller of a ticket request, or an error
	// whose message is the answer: InvalidAuthentication (401) when it
	// has a Status() int of 401, else PermissionDenied (403).
	Authenticate func(r *http.Request) (account string, err error)
	// Key signs data URLs; every node of a deployment must share it.
	Key []byte
	// TicketLifetime is how long a ticket's data URLs work; 0 is an hour.
	TicketLifetime time.Duration
	Now            func() time.Time
	Log            *slog.Logger
}

// Error kinds of the protocol, with their HTTP statuses.
const (
	InvalidAuthentication = "InvalidAuthentication"
	PermissionDenied      = "PermissionDenied"
	NotFound              = "NotFound"
	PayloadTooLarge       = "PayloadTooLarge"
	UnsupportedFormat     = "UnsupportedFormat"
	InvalidInput          = "InvalidInput"
	InvalidRange          = "InvalidRange"
	internalError         = "InternalError"
)

var statusOf = map[string]int{
	InvalidAuthentication: http.StatusUnauthorized,
	PermissionDenied:      http.StatusForbidden,
	NotFound:              http.StatusNotFound,
	PayloadTooLarge:       http.StatusRequestEntityTooLarge,
	UnsupportedFormat:     http.StatusBadRequest,
	InvalidInput:          http.StatusBadRequest,
	InvalidRange:          http.StatusBadRequest,
	internalError:         http.StatusInternalServerError,
}

// Error is a failed request in the protocol's terms.
type Error struct {
	Kind, Message string
}

func (e *Error) Error() string { return e.Kind + ": " + e.Message }

func fail(kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// OperationName names a request's htsget method for metrics.
func OperationName(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, Prefix+"reads/"):
		return "htsget:Reads"
	case strings.HasPrefix(r.URL.Path, Prefix+"data/"):
		return "htsget:Data"
	}
	return "htsget:Unknown"
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log().ErrorContext(r.Context(), "htsget request panicked", "path", r.URL.Path, "panic", p)
			h.writeError(w, r, fail(internalError, "internal error"))
		}
	}()
	var err error
	if id, ok := strings.CutPrefix(r.URL.Path, Prefix+"reads/"); ok && id != "" {
		if id == "service-info" {
			err = h.writeJSON(w, http.StatusOK, serviceInfo())
		} else {
			err = h.ticket(w, r, id)
		}
	} else if id, ok := strings.CutPrefix(r.URL.Path, Prefix+"data/"); ok && id != "" {
		err = h.data(w, r, id)
	} else {
		err = fail(NotFound, "no htsget method at %s: htsget serves %sreads/{readSetId}", r.URL.Path, Prefix)
	}
	if err != nil {
		h.writeError(w, r, err)
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

// request is a ticket request, from a GET's query or a POST's body.
type request struct {
	Format  string          `json:"format"`
	Class   string          `json:"class"`
	Fields  []string        `json:"fields"`
	Tags    []string        `json:"tags"`
	NoTags  []string        `json:"notags"`
	Regions []regionRequest `json:"regions"`
}

// regionRequest is one region of a request, as the client sent it.
type regionRequest struct {
	ReferenceName string `json:"referenceName"`
	Start         *int64 `json:"start"`
	End           *int64 `json:"end"`
}

// maxBody bounds a POST's regions.
const maxBody = 1 << 20

func parseGET(q url.Values) (*request, error) {
	req := &request{Format: q.Get("format"), Class: q.Get("class")}
	for _, k := range []string{"fields", "tags", "notags"} {
		if v := q.Get(k); v != "" {
			l := strings.Split(v, ",")
			switch k {
			case "fields":
				req.Fields = l
			case "tags":
				req.Tags = l
			default:
				req.NoTags = l
			}
		}
	}
	name, start, end := q.Get("referenceName"), q.Get("start"), q.Get("end")
	if name == "" {
		if start != "" || end != "" {
			return nil, fail(InvalidInput, "start and end need a referenceName")
		}
		return req, nil
	}
	req.Regions = append(req.Regions, regionRequest{ReferenceName: name})
	reg := &req.Regions[0]
	for _, p := range []struct {
		s   string
		dst **int64
	}{{start, &reg.Start}, {end, &reg.End}} {
		if p.s == "" {
			continue
		}
		v, err := strconv.ParseInt(p.s, 10, 64)
		if err != nil || v < 0 || v > 1<<32-1 {
			return nil, fail(InvalidInput, "start and end are 0-based positions, whole numbers from 0 to 4294967295, not %q", p.s)
		}
		*p.dst = &v
	}
	return req, nil
}

// regions checks the request's regions and turns them into the Store's.
func (req *request) regions() ([]Region, error) {
	if len(req.Regions) == 0 {
		return nil, nil
	}
	var out []Region
	for _, r := range req.Regions {
		if r.ReferenceName == "" {
			return nil, fail(InvalidInput, "every region needs a referenceName")
		}
		reg := Region{Reference: r.ReferenceName, End: -1}
		if r.ReferenceName == "*" && (r.Start != nil || r.End != nil) {
			return nil, fail(InvalidInput, "referenceName * (the unplaced reads) takes no start or end")
		}
		if r.Start != nil {
			reg.Start = *r.Start
		}
		if r.End != nil {
			reg.End = *r.End
		}
		if reg.Start < 0 || (r.End != nil && reg.End < 0) || reg.End > 1<<32-1 || reg.Start > 1<<32-1 {
			return nil, fail(InvalidInput, "start and end are 0-based positions from 0 to 4294967295")
		}
		if r.End != nil && reg.Start > reg.End {
			return nil, fail(InvalidRange, "start %d is after end %d", reg.Start, reg.End)
		}
		out = append(out, reg)
	}
	return out, nil
}

func (h *Handler) ticket(w http.ResponseWriter, r *http.Request, id string) error {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return fail(InvalidInput, "htsget tickets are asked for with GET or POST, not %s", r.Method)
	}
	// The signature covers the body, which the verifier reads and puts
	// back.
	account, err := h.Authenticate(r)
	var status interface{ Status() int }
	if errors.As(err, &status) && status.Status() == http.StatusUnauthorized {
		// Credentials that do not authenticate, such as an expired
		// bearer token, as opposed to none or a bad signature.
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return fail(InvalidAuthentication, "%v", err)
	}
	if err != nil {
		return fail(PermissionDenied, "%v", err)
	}
	if account == "" {
		return fail(PermissionDenied, "the request's signature names no account")
	}
	var req *request
	switch r.Method {
	case http.MethodGet:
		if req, err = parseGET(r.URL.Query()); err != nil {
			return err
		}
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return fail(InvalidInput, "reading the request body: %v", err)
		}
		if len(body) > maxBody {
			return fail(PayloadTooLarge, "the request body is larger than %d bytes", maxBody)
		}
		req = &request{}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, req); err != nil {
				return fail(InvalidInput, "the request body is not an htsget JSON request: %v", err)
			}
		}
	}
	format := strings.ToUpper(req.Format)
	if format == "" {
		format = FormatBAM
	}
	if format != FormatBAM && format != FormatCRAM {
		return fail(UnsupportedFormat, "format %q is not one of the reads formats BAM and CRAM", req.Format)
	}
	if req.Class != "" && req.Class != "header" {
		return fail(InvalidInput, "class %q is not header (the only class one may ask for)", req.Class)
	}
	regions, err := req.regions()
	if err != nil {
		return err
	}
	rs, err := h.Store.ReadSet(r.Context(), account, id)
	if errors.Is(err, ErrNotFound) {
		if err != ErrNotFound {
			// The store says why, such as a read set not ACTIVE.
			return fail(NotFound, "%s", strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": "))
		}
		return fail(NotFound, "no read set %s that you may read: the ID is a read set's, as ListReadSets gives it", id)
	}
	if err != nil {
		return err
	}
	if rs.Slice == nil {
		return fail(UnsupportedFormat, "read set %s is %s, which htsget does not serve here yet", id, rs.Format)
	}
	if rs.Format != format {
		return fail(UnsupportedFormat, "read set %s is stored as %s and is served as %s only, not %s", id, rs.Format, rs.Format, format)
	}
	slice, err := rs.Slice(r.Context(), regions)
	switch {
	case errors.Is(err, ErrUnknownReference):
		return fail(NotFound, "%v", err)
	case errors.Is(err, ErrNoIndex):
		return fail(InvalidInput, "%v", err)
	case errors.Is(err, ErrPastEnd):
		return fail(InvalidRange, "%v", err)
	case err != nil:
		return err
	}
	return h.writeJSON(w, http.StatusOK, h.ticketOf(r, account, id, format, req.Class == "header", slice))
}

// urlEntry is one URL of a ticket.
type urlEntry struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Class   string            `json:"class,omitempty"`
}

func (h *Handler) ticketOf(r *http.Request, account, id, format string, headerOnly bool, s *Slice) map[string]any {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	lifetime := h.TicketLifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	expires := h.now().Add(lifetime).Unix()
	dataURL := func(rg Range) string {
		q := url.Values{}
		q.Set("account", account)
		q.Set("start", strconv.FormatInt(rg.Start, 10))
		q.Set("end", strconv.FormatInt(rg.End, 10))
		q.Set("expires", strconv.FormatInt(expires, 10))
		q.Set("token", h.sign(account, id, rg, expires))
		return scheme + "://" + r.Host + Prefix + "data/" + url.PathEscape(id) + "?" + q.Encode()
	}
	var urls []urlEntry
	if s.Header.End > s.Header.Start {
		urls = append(urls, urlEntry{URL: dataURL(s.Header), Class: "header"})
	}
	if !headerOnly {
		for _, rg := range s.Body {
			urls = append(urls, urlEntry{URL: dataURL(rg), Class: "body"})
		}
	}
	if len(s.Trailer) > 0 {
		urls = append(urls, urlEntry{URL: "data:application/octet-stream;base64," + base64.StdEncoding.EncodeToString(s.Trailer), Class: "body"})
	}
	return map[string]any{"htsget": map[string]any{"format": format, "urls": urls}}
}

// sign is the data URL's token: an HMAC of everything the URL grants.
func (h *Handler) sign(account, id string, rg Range, expires int64) string {
	m := hmac.New(sha256.New, h.Key)
	fmt.Fprintf(m, "htsget data\n%s\n%s\n%d\n%d\n%d", account, id, rg.Start, rg.End, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// data serves one byte range a ticket handed out.
func (h *Handler) data(w http.ResponseWriter, r *http.Request, id string) error {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		return fail(InvalidInput, "ticket data is fetched with GET")
	}
	q := r.URL.Query()
	account := q.Get("account")
	var nums [3]int64
	for i, k := range []string{"start", "end", "expires"} {
		v, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil {
			return fail(InvalidAuthentication, "the data URL is damaged (%s): ask for a new ticket", k)
		}
		nums[i] = v
	}
	rg := Range{Start: nums[0], End: nums[1]}
	want := h.sign(account, id, rg, nums[2])
	if !hmac.Equal([]byte(want), []byte(q.Get("token"))) {
		return fail(InvalidAuthentication, "the data URL's token does not match it: use the URL exactly as the ticket gave it")
	}
	if h.now().Unix() > nums[2] {
		return fail(InvalidAuthentication, "the data URL expired at %s: ask for a new ticket", time.Unix(nums[2], 0).UTC().Format(time.RFC3339))
	}
	if rg.Start < 0 || rg.End < rg.Start {
		return fail(InvalidRange, "bad range %d-%d", rg.Start, rg.End)
	}
	rs, err := h.Store.ReadSet(r.Context(), account, id)
	if errors.Is(err, ErrNotFound) {
		return fail(NotFound, "read set %s is gone", id)
	}
	if err != nil {
		return err
	}
	body, err := rs.Open(r.Context(), rg.Start, rg.End)
	if err != nil {
		return err
	}
	defer body.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	if n, err := io.Copy(w, body); err != nil {
		h.log().WarnContext(r.Context(), "htsget data cut short", "path", r.URL.Path, "sent", n, "error", err)
		// The answer has no length to fall short of: only a broken
		// connection tells the client it is incomplete.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func serviceInfo() map[string]any {
	return map[string]any{
		"id":           "io.seqstore.htsget",
		"name":         "seqstore htsget",
		"type":         map[string]string{"group": "org.ga4gh", "artifact": "htsget", "version": "1.3.0"},
		"organization": map[string]string{"name": "seqstore", "url": "https://github.com/seqstore/seqstore"},
		"version":      "1.3.0",
		"htsget": map[string]any{
			"datatype":                 "reads",
			"formats":                  []string{FormatBAM, FormatCRAM},
			"fieldsParameterEffective": false,
			"tagsParametersEffective":  false,
		},
	}
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", JSONType+"; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body) // a client gone away is answered by nobody
	return nil
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *Error
	if !errors.As(err, &he) {
		h.log().ErrorContext(r.Context(), "htsget request failed", "path", r.URL.Path, "error", err)
		he = fail(internalError, "internal error; the server's log says more")
	} else {
		h.log().DebugContext(r.Context(), "htsget request refused", "path", r.URL.Path, "kind", he.Kind, "error", he.Message)
	}
	w.Header().Del("Content-Length")
	h.writeJSON(w, statusOf[he.Kind], map[string]any{"htsget": map[string]string{"error": he.Kind, "message": he.Message}})
}
