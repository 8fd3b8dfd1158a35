// Package refget serves the sequences of stored references by the GA4GH
// refget 2.0 protocol (sequences): a sequence or a range of it by its MD5
// or GA4GH digest, its metadata, and the service-info document. It is the
// protocol alone — routing, identifiers, start/end and Range semantics,
// content negotiation, the JSON and text answers and the protocol's
// errors — over a narrow Store of sequences; who the caller is comes from
// an Authenticate function, unless the operator makes refget public.
package refget

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Prefix is where refget's paths start on the listener it shares:
// Prefix+"sequence/{id}" and so on.
const Prefix = "/refget/"

// Media types of the protocol's answers.
const (
	TextType = "text/vnd.ga4gh.refget.v2.0.0+plain"
	JSONType = "application/vnd.ga4gh.refget.v2.0.0+json"
)

// Sequence is a stored sequence as refget describes and serves it.
type Sequence struct {
	MD5    string // lower-case hex
	GA4GH  string // "SQ." and base64url; "" when not known
	Length int64
	// Aliases are the sequence's names where it is stored.
	Aliases []Alias
	// Open streams the residues [start, end), upper-cased and without line
	// breaks; 0 <= start <= end <= Length has been checked.
	Open func(ctx context.Context, start, end int64) (io.ReadCloser, error)
}

// Alias is a name a naming authority gives a sequence.
type Alias struct {
	Alias           string `json:"alias"`
	NamingAuthority string `json:"naming_authority"`
}

// ErrNotFound is what a Store returns for a digest it does not hold.
var ErrNotFound = errors.New("refget: no such sequence")

// Store finds sequences by digest.
type Store interface {
	// Sequence returns the sequence whose MD5 (lower-case hex) or GA4GH
	// identifier ("SQ." and base64url) is digest among those the account
	// may read, or among all sequences when account is AnyAccount.
	Sequence(ctx context.Context, account, digest string) (*Sequence, error)
}

// AnyAccount is the account of every request to a public Handler.
const AnyAccount = ""

// Handler answers refget requests under Prefix.
type Handler struct {
	Store Store
	// Public serves every account's sequences without asking who calls:
	// refget clients such as htslib send no credentials.
	Public bool
	// Authenticate returns the caller's account, or an error whose
	// Status() int (if it has one; else 403) and message are the answer.
	// It is not called when Public is set.
	Authenticate func(r *http.Request) (account string, err error)
	// Version is the implementation's version, for service-info.
	Version string
	Log     *slog.Logger
}

// route is what a path asks for.
type route int

const (
	routeNone route = iota
	routeServiceInfo
	routeSequence
	routeMetadata
)

// parsePath splits a path under Prefix into its route and identifier.
func parsePath(path string) (route, string) {
	rest, ok := strings.CutPrefix(path, Prefix)
	if !ok {
		return routeNone, ""
	}
	if rest == "service-info" || rest == "sequence/service-info" {
		return routeServiceInfo, ""
	}
	rest, ok = strings.CutPrefix(rest, "sequence/")
	if !ok || rest == "" {
		return routeNone, ""
	}
	if id, ok := strings.CutSuffix(rest, "/metadata"); ok {
		if id == "" || strings.Contains(id, "/") {
			return routeNone, ""
		}
		return routeMetadata, id
	}
	if strings.Contains(rest, "/") {
		return routeNone, ""
	}
	return routeSequence, rest
}

// OperationName names a request's refget method for metrics.
func OperationName(r *http.Request) string {
	switch rt, _ := parsePath(r.URL.Path); rt {
	case routeServiceInfo:
		return "refget:ServiceInfo"
	case routeSequence:
		return "refget:Sequence"
	case routeMetadata:
		return "refget:Metadata"
	}
	return "refget:Unknown"
}

// ParseID turns a refget identifier into the digest a Store looks up: a
// 32-digit MD5 (either case, optionally "md5:"), a GA4GH identifier
// ("SQ.…", optionally "ga4gh:"), or a TRUNC512 digest (48 hex digits,
// optionally "trunc512:"), which is the GA4GH digest in hex. ok is false
// for anything else, which no sequence answers to.
func ParseID(id string) (digest string, ok bool) {
	ns, rest, hasNS := strings.Cut(id, ":")
	if !hasNS {
		rest = id
	}
	switch ns = strings.ToLower(ns); {
	case (!hasNS || ns == "md5") && len(rest) == 32 && isHex(rest):
		return strings.ToLower(rest), true
	case (!hasNS || ns == "ga4gh") && strings.HasPrefix(rest, "SQ."):
		b64 := rest[3:]
		if len(b64) != 32 {
			return "", false
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(b64); err != nil {
			return "", false
		}
		return rest, true
	case (!hasNS || ns == "trunc512") && len(rest) == 48 && isHex(rest):
		raw, _ := hex.DecodeString(rest)
		return "SQ." + base64.RawURLEncoding.EncodeToString(raw), true
	}
	return "", false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// statusError is a failed request: the status and what to tell the client.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func fail(status int, format string, args ...any) *statusError {
	return &statusError{status: status, msg: fmt.Sprintf(format, args...)}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			h.log().ErrorContext(r.Context(), "refget request panicked", "path", r.URL.Path, "panic", p)
			h.writeError(w, r, fail(http.StatusInternalServerError, "internal error"))
		}
	}()
	if err := h.serve(w, r); err != nil {
		h.writeError(w, r, err)
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	rt, id := parsePath(r.URL.Path)
	if rt == routeNone {
		return fail(http.StatusNotFound, "no refget method at %s: refget serves %ssequence/{id}, %ssequence/{id}/metadata and %ssequence/service-info", r.URL.Path, Prefix, Prefix, Prefix)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return fail(http.StatusMethodNotAllowed, "refget answers GET and HEAD only")
	}
	if rt == routeServiceInfo {
		if err := acceptable(r, JSONType, "application/json"); err != nil {
			return err
		}
		return h.writeJSON(w, h.serviceInfo())
	}
	account := AnyAccount
	if !h.Public {
		a, err := h.Authenticate(r)
		if err != nil {
			status := http.StatusForbidden
			var s interface{ Status() int }
			if errors.As(err, &s) {
				status = s.Status()
			}
			if status == http.StatusUnauthorized {
				// RFC 6750: an invalid bearer token is answered so.
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			return fail(status, "%v", err)
		}
		if a == AnyAccount {
			// Only Public may search every account.
			return fail(http.StatusForbidden, "the request's signature names no account")
		}
		account = a
	}
	var seq *Sequence
	if digest, ok := ParseID(id); ok {
		var err error
		seq, err = h.Store.Sequence(r.Context(), account, digest)
		if errors.Is(err, ErrNotFound) {
			seq = nil
		} else if err != nil {
			return err
		}
	}
	if seq == nil {
		return fail(http.StatusNotFound, "no sequence has the identifier %q here: refget finds a sequence of an imported reference by its MD5 (32 hex digits) or GA4GH identifier (SQ.…)", id)
	}
	if rt == routeMetadata {
		if err := acceptable(r, JSONType, "application/json"); err != nil {
			return err
		}
		return h.writeJSON(w, metadataOf(seq))
	}
	if err := acceptable(r, TextType, "text/plain"); err != nil {
		return err
	}
	return h.writeSequence(w, r, seq)
}

// metadata is the metadata method's answer.
type metadata struct {
	Metadata struct {
		MD5     string  `json:"md5"`
		GA4GH   *string `json:"ga4gh"` // null when not known
		Length  int64   `json:"length"`
		Aliases []Alias `json:"aliases"`
	} `json:"metadata"`
}

func metadataOf(seq *Sequence) *metadata {
	var m metadata
	m.Metadata.MD5, m.Metadata.Length, m.Metadata.Aliases = seq.MD5, seq.Length, seq.Aliases
	if seq.GA4GH != "" {
		ga4gh := seq.GA4GH
		m.Metadata.GA4GH = &ga4gh
	}
	if m.Metadata.Aliases == nil {
		m.Metadata.Aliases = []Alias{}
	}
	return &m
}

// serviceInfo is the GA4GH service-info document with refget's block.
func (h *Handler) serviceInfo() map[string]any {
	version := h.Version
	if version == "" {
		version = "dev"
	}
	return map[string]any{
		"id":          "io.seqstore.refget",
		"name":        "seqstore refget",
		"description": "The sequences of the references imported into seqstore, by their MD5 or GA4GH digest",
		"type":        map[string]string{"group": "org.ga4gh", "artifact": "refget", "version": "2.0.0"},
		"organization": map[string]string{
			"name": "seqstore",
			"url":  "https://github.com/seqstore/seqstore",
		},
		"version": version,
		"refget": map[string]any{
			"circular_supported": false,
			"algorithms":         []string{"md5", "ga4gh", "trunc512"},
			"identifier_types":   []string{},
			"subsequence_limit":  nil,
		},
	}
}

func (h *Handler) writeJSON(w http.ResponseWriter, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", JSONType+"; charset=us-ascii")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body) // a client gone away is answered by nobody
	return nil
}

// writeSequence answers the sequence method: the whole sequence, the
// start/end sub-sequence (200) or the Range (206).
func (h *Handler) writeSequence(w http.ResponseWriter, r *http.Request, seq *Sequence) error {
	sub, err := parseSubsequence(r.URL.RawQuery, r.Header.Values("Range"), seq.Length)
	if err != nil {
		return err
	}
	var body io.ReadCloser = http.NoBody
	if r.Method != http.MethodHead {
		if body, err = seq.Open(r.Context(), sub.start, sub.end); err != nil {
			return err
		}
	}
	defer body.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", TextType+"; charset=us-ascii")
	hdr.Set("Content-Length", strconv.FormatInt(sub.end-sub.start, 10))
	status := http.StatusOK
	switch sub.kind {
	case byQuery:
		// The spec asks for this when start or end is given.
		hdr.Set("Accept-Ranges", "none")
	case byRange:
		hdr.Set("Accept-Ranges", "bytes")
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", sub.start, sub.end-1, seq.Length))
		status = http.StatusPartialContent
	default:
		hdr.Set("Accept-Ranges", "bytes")
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	if n, err := io.Copy(w, body); err != nil {
		// The status is sent: all that is left is to cut the answer short,
		// which its Content-Length lets the client see.
		h.log().WarnContext(r.Context(), "refget sequence cut short", "path", r.URL.Path, "sent", n, "error", err)
	}
	return nil
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	if !errors.As(err, &se) {
		h.log().ErrorContext(r.Context(), "refget request failed", "path", r.URL.Path, "error", err)
		se = fail(http.StatusInternalServerError, "internal error; the server's log says more")
	} else {
		h.log().DebugContext(r.Context(), "refget request refused", "path", r.URL.Path, "status", se.status, "error", se.msg)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Del("Content-Length")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(se.status)
	fmt.Fprintln(w, se.msg)
}
