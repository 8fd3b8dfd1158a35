// Package console is seqstore's web console: a page served at /console, its
// scripts and styles embedded in the binary, and the sign-in that lets that
// page call the storage API.
//
// The page holds no business logic of the server's: it calls the very
// REST-JSON operations the AWS SDKs call (ListReadSets,
// CreateMultipartReadSetUpload, GetReadSetQC, ...). What this package adds is
// a way to authenticate them without SigV4, which a browser cannot do
// without holding the secret: a person signs in once with an access key
// pair, the secret is checked here and forgotten, and the browser gets a
// random session ID in an HttpOnly, SameSite=Strict cookie and a CSRF token
// it keeps in memory and sends as a header. The API's authenticator asks
// Sessions (through SessionAccount) to vouch for a request that carries the
// cookie instead of a signature.
//
// The scripts are written here, not taken from a framework: a handful of
// small modules draw tables, forms and SVG plots with the DOM, so that the
// binary needs no network and no build step to serve them.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/seqstore/seqstore/internal/auth"
	"github.com/seqstore/seqstore/internal/meta"
)

// Prefix is the path the console is served under.
const Prefix = "/console"

// CSRFHeader is the header that carries a session's CSRF token.
const CSRFHeader = "X-Seqstore-Csrf"

//go:embed assets
var assets embed.FS

// Options configure the console.
type Options struct {
	// Keys checks the access key pairs people sign in with, and that a
	// session's key still exists on each request.
	Keys *auth.Keys
	// Sessions keeps the sessions: the metadata store, which every node
	// of a deployment shares.
	Sessions meta.ConsoleSessions
	// Secure marks the cookie Secure: set it when the API is served over TLS.
	Secure bool
	// Lifetime is how long a session lasts from sign-in, Idle how long it
	// lasts without a request; zero means DefaultLifetime and DefaultIdle.
	Lifetime, Idle time.Duration
	Log            *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultLifetime and DefaultIdle bound a session: a working day, and an
// hour away from the keyboard.
const (
	DefaultLifetime = 8 * time.Hour
	DefaultIdle     = time.Hour
)

// Console serves the console's page and its sessions.
type Console struct {
	keys     *auth.Keys
	sessions *sessions
	secure   bool
	log      *slog.Logger
	static   http.Handler // the files under assets/
	index    []byte
	etag     string // of the embedded files, so browsers revalidate them cheaply
}

// New returns the console.
func New(o Options) *Console {
	if o.Lifetime <= 0 {
		o.Lifetime = DefaultLifetime
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	index, err := fs.ReadFile(assets, "assets/index.html")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	// One tag for every file: they change together, with the binary.
	sum := sha256.New()
	fs.WalkDir(assets, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assets, path)
			sum.Write([]byte(path))
			sum.Write(b)
		}
		return err
	})
	return &Console{
		keys:     o.Keys,
		sessions: &sessions{store: o.Sessions, lifetime: o.Lifetime, idle: o.Idle, now: o.Now},
		secure:   o.Secure,
		log:      o.Log,
		static:   http.FileServerFS(assets),
		index:    index,
		etag:     `"` + hex.EncodeToString(sum.Sum(nil)[:12]) + `"`,
	}
}

// ServeHTTP serves everything under Prefix.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The page loads only its own scripts and styles, talks only to its
	// own origin, and is never framed.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-cache")
	path := r.URL.Path
	switch {
	case path == Prefix:
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	case path == Prefix+"/session":
		h.Set("Cache-Control", "no-store") // it answers with the CSRF token
		c.serveSession(w, r)
	case path == Prefix+"/" || strings.HasPrefix(path, Prefix+"/assets/"):
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			writeJSONError(w, http.StatusMethodNotAllowed, "the console's files are read with GET")
			return
		}
		h.Set("ETag", c.etag)
		if path == Prefix+"/" {
			h.Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(c.index))
			return
		}
		if strings.HasSuffix(path, "/") {
			writeJSONError(w, http.StatusNotFound, "the console lists no directories")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = strings.TrimPrefix(path, Prefix)
		if strings.HasSuffix(r2.URL.Path, ".js") {
			// Module scripts must come as JavaScript, whatever the
			// system's MIME table says.
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		}
		c.static.ServeHTTP(w, r2)
	default:
		writeJSONError(w, http.StatusNotFound, "the console has no page at "+path+"; start at "+Prefix+"/")
	}
}

// signIn is the body of POST /console/session.
type signIn struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// sessionInfo answers sign-in and GET /console/session: who is signed in,
// and the CSRF token the page sends with every request.
type sessionInfo struct {
	AccessKeyID string    `json:"accessKeyId"`
	AccountID   string    `json:"accountId"`
	CSRFToken   string    `json:"csrfToken"`
	Expires     time.Time `json:"expires"`
}

// cookieName is the session cookie's name.
const cookieName = "seqstore_console"

// maxSignInBytes bounds a sign-in body: an ID and a secret.
const maxSignInBytes = 4 << 10

func (c *Console) serveSession(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		c.signIn(w, r)
	case http.MethodGet:
		s, err := c.sessionOf(r)
		if err != nil {
			c.writeSessionError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.info())
	case http.MethodDelete:
		s, err := c.sessionOf(r)
		if err == nil && !s.csrfMatches(r.Header.Get(CSRFHeader)) {
			err = errNoCSRF
		}
		if err == nil {
			err = c.sessions.remove(r.Context(), s.id)
		}
		if err != nil {
			c.writeSessionError(w, err)
			return
		}
		http.SetCookie(w, c.cookie("", -1))
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeJSONError(w, http.StatusMethodNotAllowed, "sign in with POST, see the session with GET, sign out with DELETE")
	}
}

// signIn checks an access key pair and opens a session for its account.
// The body must be JSON, which a form on another site cannot send without
// the browser asking this origin first (and it does not answer).
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSONError(w, http.StatusUnsupportedMediaType, "send the access key pair as JSON (Content-Type: application/json)")
		return
	}
	var in signIn
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSignInBytes)).Decode(&in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "the body must be JSON with accessKeyId and secretAccessKey")
		return
	}
	key, err := c.keys.Lookup(r.Context(), strings.TrimSpace(in.AccessKeyID))
	switch {
	case errors.Is(err, auth.ErrUnknownAccessKey):
		// Compare anyway, so that an unknown ID takes as long as a
		// wrong secret.
		secretMatches("", in.SecretAccessKey)
		c.log.Info("console sign-in refused: unknown access key", "accessKeyId", in.AccessKeyID, "remote", r.RemoteAddr)
		writeJSONError(w, http.StatusUnauthorized, "the access key ID or the secret is wrong")
		return
	case err != nil:
		c.log.Error("console sign-in: look up the access key", "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the server could not check the key; try again")
		return
	}
	if !secretMatches(key.Secret, strings.TrimSpace(in.SecretAccessKey)) {
		c.log.Info("console sign-in refused: wrong secret", "accessKeyId", key.ID, "remote", r.RemoteAddr)
		writeJSONError(w, http.StatusUnauthorized, "the access key ID or the secret is wrong")
		return
	}
	s, err := c.sessions.open(r.Context(), key.ID, key.AccountID)
	if err != nil {
		c.log.Error("console sign-in: store the session", "err", err)
		writeJSONError(w, http.StatusServiceUnavailable, "the server could not open a session; try again")
		return
	}
	c.log.Info("console sign-in", "accessKeyId", key.ID, "account", key.AccountID, "remote", r.RemoteAddr)
	http.SetCookie(w, c.cookie(s.id, int(c.sessions.lifetime/time.Second)))
	writeJSON(w, http.StatusOK, s.info())
}

func (c *Console) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   c.secure,
		SameSite: http.SameSiteStrictMode,
	}
}

var (
	errNoSession  = &refusal{"not signed in: sign in to the console with an access key pair"}
	errExpired    = &refusal{"the console session ended (signed out, or idle for too long): sign in again"}
	errNoCSRF     = &refusal{"the request lacks the console session's " + CSRFHeader + " header: send it as the console page does"}
	errKeyDeleted = &refusal{"the access key this console session signed in with was deleted: sign in with another"}
)

// writeSessionError answers a request whose session does not hold (401) or
// could not be checked (503).
func (c *Console) writeSessionError(w http.ResponseWriter, err error) {
	var r *refusal
	if errors.As(err, &r) {
		writeJSONError(w, http.StatusUnauthorized, r.msg)
		return
	}
	c.log.Error("console: check a session", "err", err)
	writeJSONError(w, http.StatusServiceUnavailable, "the server could not check the session; try again")
}

// sessionOf returns the live session r's cookie names, touching it, and
// checks that its access key still exists.
func (c *Console) sessionOf(r *http.Request) (*session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	s, err := c.sessions.get(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	if _, err := c.keys.Lookup(r.Context(), s.accessKeyID); err != nil {
		if errors.Is(err, auth.ErrUnknownAccessKey) {
			if err := c.sessions.remove(r.Context(), s.id); err != nil {
				return nil, err
			}
			return nil, errKeyDeleted
		}
		return nil, err
	}
	return s, nil
}

// CarriesSession reports whether r carries a console session cookie.
func (c *Console) CarriesSession(r *http.Request) bool {
	ck, err := r.Cookie(cookieName)
	return err == nil && ck.Value != ""
}

// SessionAccount vouches for an API request that carries a console
// session's cookie: it returns the session's account and access key ID. An
// error with a Refused method says the session does not hold; any other is
// a failure to check it.
// Requests that change anything must carry the session's CSRF header too;
// reads sent with GET need only the cookie, which SameSite=Strict keeps
// from riding on another site's requests, so that download links work.
func (c *Console) SessionAccount(r *http.Request, readOnly bool) (accountID, accessKeyID string, err error) {
	s, err := c.sessionOf(r)
	if err != nil {
		return "", "", err
	}
	if !(readOnly && r.Method == http.MethodGet) && !s.csrfMatches(r.Header.Get(CSRFHeader)) {
		return "", "", errNoCSRF
	}
	return s.accountID, s.accessKeyID, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the package's own types come here
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}
