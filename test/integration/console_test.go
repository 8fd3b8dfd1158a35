package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/omics"
	"github.com/aws/aws-sdk-go-v2/service/omics/types"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seqstore/seqstore"
	"github.com/seqstore/seqstore/internal/testutil"
	"github.com/seqstore/seqstore/internal/testutil/pgtest"
)

// writeConsoleFASTQ writes n reads of one mate whose qualities fall along
// the read, whose lengths vary from 100 to 150 and whose GC content varies
// from read to read, so that every QC plot has a shape to draw.
func writeConsoleFASTQ(t *testing.T, path string, n, mate int, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(seed, uint64(mate)))
	for i := range n {
		length := 100 + rng.IntN(51)
		gc := 0.3 + 0.35*rng.Float64()
		seq := make([]byte, length)
		qual := make([]byte, length)
		for j := range seq {
			if rng.Float64() < gc {
				seq[j] = "GC"[rng.IntN(2)]
			} else {
				seq[j] = "AT"[rng.IntN(2)]
			}
			q := 38 - j*18/150 - rng.IntN(6)
			qual[j] = byte('!' + max(2, q))
		}
		fmt.Fprintf(w, "@read%d/%d\n%s\n+\n%s\n", i, mate, seq, qual)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// seedReadSets writes n ACTIVE read sets straight into the metadata store,
// as many as a busy store holds, without uploading their data: the list
// pages read only metadata. Several writers share the work; it returns the
// first error.
func seedReadSets(in *instance, store string, n int) error {
	const writers = 8
	ctx := context.Background()
	start := time.Now().Add(-time.Duration(n) * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				rs := &seqstore.ReadSet{
					AccountID: in.srv.Root.AccountID, StoreID: store, ID: fmt.Sprintf("%010d", 9000000000+i),
					Name: fmt.Sprintf("seeded-%05d", i), SubjectID: fmt.Sprintf("subject-%d", i%37), SampleID: fmt.Sprintf("sample-%d", i%100),
					Status: seqstore.ReadSetStatusActive, FileType: []string{"FASTQ", "BAM", "CRAM"}[i%3], CreationType: "UPLOAD",
					SequenceInformation: &seqstore.SequenceInformation{TotalReadCount: int64(1000 + i), TotalBaseCount: int64(150000 + 150*i)},
					CreatedAt:           start.Add(time.Duration(i) * time.Second), UpdatedAt: start.Add(time.Duration(i) * time.Second),
				}
				if err := in.srv.Meta.ReadSetCreate(ctx, rs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// browser drives one headless Chromium tab and fails the test on any
// script error the page raises.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := testutil.RequireTool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1366, 768), // a laptop screen
		chromedp.NoSandbox,             // CI runs as root
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shots: os.Getenv("SEQSTORE_SCREENSHOTS")}
	if b.shots == "" {
		b.shots = t.ArtifactDir()
	} else if err := os.MkdirAll(b.shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.mu.Lock()
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.mu.Lock()
				b.errors = append(b.errors, "console.error: "+strings.Join(parts, " "))
				b.mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("the page raised: %s", e)
		}
	})
	return b
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript predicate until it holds.
func (b *browser) wait(what, expr string, timeout time.Duration) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		// What the page shows says more than the timeout.
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
		if png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(b.shots, "failure.png"), png, 0o644)
		}
		b.t.Fatalf("waiting for %s (%s): %v; the page shows (failure.png in %s):\n%s", what, expr, err, b.shots, text)
	}
}

// goTo opens a console page by its fragment and waits until it is drawn.
func (b *browser) goTo(hash string) {
	b.t.Helper()
	if evalJS[string](b, `location.hash`) == hash && hash != "#/" {
		b.goTo("#/") // setting the same fragment again changes nothing
	}
	n := evalJS[int](b, fmt.Sprintf(`(() => { const n = +(document.querySelector("main").dataset.ready || 0); location.hash = %q; return n; })()`, hash))
	route := strings.SplitN(hash, "?", 2)[0]
	b.wait("page "+hash, fmt.Sprintf(`+(document.querySelector("main").dataset.ready || 0) > %d && document.querySelector("main").dataset.route === %q`, n, route), 30*time.Second)
}

// accessibilityProblems lists what on the page a keyboard or screen-reader
// user, or one who needs contrast, would miss: form fields without a label,
// buttons and links without a name, charts without a text alternative, and
// visible text under WCAG AA contrast (4.5:1, 3:1 for large text) against
// the first opaque background behind it.
const accessibilityProblems = `(() => {
	const out = [];
	const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length) && getComputedStyle(e).visibility !== "hidden";
	for (const e of document.querySelectorAll("input, select, textarea")) {
		if (e.type === "hidden" || !visible(e)) continue;
		if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label")) out.push("no label: " + e.outerHTML.slice(0, 80));
	}
	for (const e of document.querySelectorAll("button, a[href]")) {
		if (!visible(e)) continue;
		if (!(e.textContent.trim() || e.getAttribute("aria-label"))) out.push("no name: " + e.outerHTML.slice(0, 80));
	}
	for (const e of document.querySelectorAll("svg[role=img]")) {
		if (!e.getAttribute("aria-labelledby") && !e.getAttribute("aria-label")) out.push("chart without a label");
	}
	const rgb = (c) => { const m = c.match(/[\d.]+/g) || []; return m.map(Number); };
	const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	const background = (e) => {
		for (; e; e = e.parentElement) {
			const c = rgb(getComputedStyle(e).backgroundColor);
			if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) return c;
		}
		return [255, 255, 255];
	};
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const seen = new Set();
	while (walker.nextNode()) {
		const e = walker.currentNode.parentElement;
		if (!walker.currentNode.textContent.trim() || seen.has(e) || !visible(e) || e.closest("svg, option, dialog:not([open])")) continue;
		seen.add(e);
		const st = getComputedStyle(e);
		if (e.closest("button:disabled")) continue; // WCAG exempts inactive controls
		const fg = lum(rgb(st.color)), bg = lum(background(e));
		const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
		const size = parseFloat(st.fontSize), bold = +st.fontWeight >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) out.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + JSON.stringify(e.textContent.trim().slice(0, 40)) + " (" + st.color + " on " + background(e).join(",") + ")");
	}
	return out;
})()`

// checkAccessible fails the test on accessibilityProblems of the page.
func (b *browser) checkAccessible(page string) {
	b.t.Helper()
	for _, p := range evalJS[[]string](b, accessibilityProblems) {
		b.t.Errorf("%s: %s", page, p)
	}
}

// screenshot saves the whole page, or only what the window shows when
// viewport is set (a modal dialog sits in the window, not on the page).
func (b *browser) screenshot(name string, viewport ...bool) {
	b.t.Helper()
	b.checkAccessible(name)
	shot := chromedp.FullScreenshot(100)
	if len(viewport) > 0 && viewport[0] {
		shot = chromedp.CaptureScreenshot()
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// The console in a real browser: sign-in, the store lists, a store of
// 10,000 read sets paged and filtered, a read set with its metadata,
// downloads and QC plots, an upload of a FASTQ pair through the page's file
// inputs until ACTIVE, a delete behind its confirmation, and sign-out. The
// main pages are saved as screenshots (SEQSTORE_SCREENSHOTS, else the
// test's artifact directory: go test -artifacts).
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t)
	d := lambdaData(t) // an aligned BAM and its reference, for the coverage and insert-size plots
	cfg := newConfig(t, backends[0])
	cfg.SkipQC = false // -ingest-qc: the read set page draws the report
	// PostgreSQL, as deployments of several nodes use: the console's
	// sessions are shared through it, and 10,000 read sets are seeded
	// into it far faster than into SQLite under the race detector.
	cfg.Metadata = pgtest.NewSchemaDSN(t)
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	place := &jobPlace{name: "file", root: root}
	allowJobs(t, cfg, []*jobPlace{place})
	in := start(t, backends[0], cfg)
	key := in.rootKey()
	c := in.goClient(key)
	ctx := context.Background()

	store := newStore(t, c, "")
	// 10,000 read sets seeded while the rest is set up.
	bigStore := newStore(t, c, "")
	seeded := make(chan error, 1)
	seedStart := time.Now()
	go func() { seeded <- seedReadSets(in, bigStore, 10000) }()
	dir := t.TempDir()
	r1, r2 := filepath.Join(dir, "before_R1.fq"), filepath.Join(dir, "before_R2.fq")
	writeConsoleFASTQ(t, r1, 3000, 1, 1)
	writeConsoleFASTQ(t, r2, 3000, 2, 1)
	first := uploadFiles(t, c, store, types.FileTypeFastq, "", 1<<20, r1, r2)
	if md := waitIngested(t, c, store, first); md.Status != types.ReadSetStatusActive {
		t.Fatalf("the read set uploaded beforehand is %s: %s", md.Status, aws.ToString(md.StatusMessage))
	}
	refArn := importLambdaReference(t, c, place, d.ref)
	bam := uploadFiles(t, c, store, types.FileTypeBam, refArn, 1<<20, d.bam)
	if md := waitIngested(t, c, store, bam); md.Status != types.ReadSetStatusActive {
		t.Fatalf("the BAM uploaded beforehand is %s: %s", md.Status, aws.ToString(md.StatusMessage))
	}
	imp, err := c.StartReadSetImportJob(ctx, &omics.StartReadSetImportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
		Sources: []types.StartReadSetImportJobSourceItem{importSource(types.FileTypeFastq, "imported", place.put(t, "in/r1.fq", r1), place.put(t, "in/r2.fq", r2))}})
	if err != nil {
		t.Fatal(err)
	}
	if job := waitImport(t, c, store, *imp.Id); job.Status != types.ReadSetImportJobStatusCompleted {
		t.Fatalf("the import job is %s: %+v", job.Status, job.Sources)
	}
	exp, err := c.StartReadSetExportJob(ctx, &omics.StartReadSetExportJobInput{SequenceStoreId: aws.String(store), RoleArn: aws.String(testRoleArn),
		Destination: aws.String(place.uri("out") + "/"), Sources: []types.ExportReadSet{{ReadSetId: aws.String(first)}}})
	if err != nil {
		t.Fatal(err)
	}
	if job := waitExport(t, c, store, *exp.Id); job.Status != types.ReadSetExportJobStatusCompleted {
		t.Fatalf("the export job is %s: %+v", job.Status, job.ReadSets)
	}

	// Sign-in: a wrong secret is refused, the right one lets in.
	b.do("open the console", chromedp.Navigate(in.endpoint+"/console"), chromedp.WaitVisible(chromedp.ID("access-key-id")))
	b.screenshot("sign-in")
	b.do("sign in with a wrong secret",
		chromedp.SendKeys(chromedp.ID("access-key-id"), key.ID),
		chromedp.SendKeys(chromedp.ID("secret-access-key"), "not-the-secret"),
		chromedp.Click(chromedp.ID("sign-in-button")))
	b.wait("the refusal", `document.querySelector("#sign-in-error .error")?.textContent.includes("wrong")`, 10*time.Second)
	// The refusal leaves the focus on the secret; Enter signs in.
	if f := evalJS[string](b, `document.activeElement.id`); f != "secret-access-key" {
		t.Errorf("after a refused sign-in the focus is on %q, want the secret's field", f)
	}
	evalJS[string](b, `document.getElementById("secret-access-key").value = ""`)
	b.do("sign in with the keyboard", chromedp.KeyEvent(key.Secret+kb.Enter))
	b.wait("the stores page", `document.querySelector("main").dataset.route === "#/"`, 10*time.Second)
	if got := evalJS[string](b, `document.cookie`); got != "" {
		t.Errorf("scripts can read cookies %q: the session cookie must be HttpOnly", got)
	}
	if got := evalJS[string](b, `JSON.stringify(Object.assign({}, localStorage, sessionStorage))`); strings.Contains(got, key.Secret) {
		t.Errorf("the secret is kept in the browser's storage: %s", got)
	}

	// The stores.
	text := evalJS[string](b, `document.querySelector("main").innerText`)
	for _, want := range []string{"Sequence stores", "Reference stores", store, bigStore} {
		if !strings.Contains(text, want) {
			t.Errorf("the stores page lacks %q:\n%s", want, text)
		}
	}
	b.screenshot("stores")

	// 10,000 read sets: the first page, the next, and a filter.
	if err := <-seeded; err != nil {
		t.Fatalf("seed read sets: %v", err)
	}
	t.Logf("seeded 10000 read sets in %v, beside the rest of the setup", time.Since(seedStart).Round(time.Millisecond))
	began := time.Now()
	b.goTo("#/sequence-store/" + bigStore)
	wall := time.Since(began)
	listMs := evalJS[string](b, `document.getElementById("read-sets").dataset.listMs`)
	t.Logf("first page of 10000 read sets: %s ms in the page (request to table), %v from the link to the drawn page", listMs, wall.Round(time.Millisecond))
	rows := func() []string {
		return evalJS[[]string](b, `[...document.querySelectorAll("#read-sets tbody tr")].map(r => r.innerText)`)
	}
	page1 := rows()
	if len(page1) != 50 || !strings.Contains(page1[0], "seeded-00000") {
		t.Fatalf("the first page shows %d rows, first %q; want 50 from seeded-00000", len(page1), first1(page1))
	}
	b.screenshot("read-sets")
	// The page again, a few times: one figure on a shared machine is noise.
	times := []string{listMs}
	for range 4 {
		b.goTo("#/")
		b.goTo("#/sequence-store/" + bigStore)
		times = append(times, evalJS[string](b, `document.getElementById("read-sets").dataset.listMs`))
	}
	t.Logf("first page of 10000 read sets, ms in the page, five visits: %s", strings.Join(times, " "))
	n := evalJS[int](b, `+document.querySelector("main").dataset.ready`)
	b.do("next page", chromedp.Click(chromedp.ID("next-page")))
	b.wait("page 2", fmt.Sprintf(`+document.querySelector("main").dataset.ready > %d`, n), 10*time.Second)
	if page2 := rows(); len(page2) != 50 || !strings.Contains(page2[0], "seeded-00050") {
		t.Errorf("the second page shows %d rows, first %q; want 50 from seeded-00050", len(page2), first1(page2))
	}
	b.goTo("#/sequence-store/" + bigStore + "?sample=sample-7&fileType=BAM")
	filtered := rows()
	if len(filtered) == 0 {
		t.Fatal("the filter sample-7, BAM shows nothing")
	}
	for _, r := range filtered {
		if !strings.Contains(r, "sample-7\t") || !strings.Contains(r, "BAM") {
			t.Errorf("the filter sample-7, BAM shows %q", r)
		}
	}
	// sample-7 holds read sets 7, 107, ... (100 of them); a third are BAM.
	if len(filtered) != 33 && len(filtered) != 34 {
		t.Errorf("the filter sample-7, BAM shows %d read sets, want 33 or 34", len(filtered))
	}

	// One read set: every metadata field, download links, plots.
	b.goTo("#/sequence-store/" + store + "/read-set/" + first)
	md := evalJS[string](b, `document.querySelector("dl.fields").innerText`)
	for _, want := range []string{"sequenceInformation.totalReadCount", "6000", "files.source1.totalParts", "files.source2.contentLength", "etag.algorithm", "creationType", "UPLOAD", "sampleId"} {
		if !strings.Contains(md, want) {
			t.Errorf("the metadata lacks %q:\n%s", want, md)
		}
	}
	size := evalJS[int](b, `fetch(document.querySelector('a[download][href*="file=SOURCE1"]').href).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(b => b.byteLength)`)
	stored, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(first)})
	if err != nil {
		t.Fatal(err)
	}
	if want := aws.ToInt64(stored.Files.Source1.ContentLength); int64(size) != want {
		t.Errorf("the SOURCE1 download link gave %d bytes, want the stored file's %d", size, want)
	}
	for _, id := range []string{"plot-quality", "plot-gc", "plot-length"} {
		series := evalJS[int](b, fmt.Sprintf(`+(document.querySelector("#%s svg")?.dataset.series || 0)`, id))
		points := evalJS[int](b, fmt.Sprintf(`+(document.querySelector("#%s svg")?.dataset.points || 0)`, id))
		drawn := evalJS[int](b, fmt.Sprintf(`[...document.querySelectorAll("#%s svg .series path, #%s svg .series rect")].filter(e => (e.getAttribute("d") || "").length > 20 || +e.getAttribute("height") > 0).length`, id, id))
		if series != 2 || points < 20 || drawn == 0 {
			t.Errorf("%s: %d series, %d points, %d drawn marks; want both mates with data", id, series, points, drawn)
		}
	}
	if got := evalJS[string](b, `document.querySelector("#plot-coverage").innerText`); !strings.Contains(got, "aligned") {
		t.Errorf("the coverage plot of a FASTQ read set says %q", got)
	}
	b.screenshot("read-set")

	// An aligned read set adds coverage per reference and insert sizes.
	b.goTo("#/sequence-store/" + store + "/read-set/" + bam)
	for _, id := range []string{"plot-quality", "plot-coverage", "plot-insert"} {
		points := evalJS[int](b, fmt.Sprintf(`+(document.querySelector("#%s svg")?.dataset.points || 0)`, id))
		drawn := evalJS[int](b, fmt.Sprintf(`[...document.querySelectorAll("#%s svg .series path, #%s svg .series rect")].filter(e => (e.getAttribute("d") || "").length > 20 || +e.getAttribute("height") > 0).length`, id, id))
		if points == 0 || drawn == 0 {
			t.Errorf("BAM %s: %d points, %d drawn marks", id, points, drawn)
		}
	}
	if got := evalJS[string](b, `document.querySelector("#plot-coverage").textContent`); !strings.Contains(got, "NC_001416") {
		t.Errorf("the coverage plot does not name the lambda reference:\n%s", got)
	}
	b.screenshot("read-set-bam")

	// An upload through the page's file inputs, watched until ACTIVE.
	u1, u2 := filepath.Join(dir, "browser_R1.fq"), filepath.Join(dir, "browser_R2.fq")
	writeConsoleFASTQ(t, u1, 2000, 1, 2)
	writeConsoleFASTQ(t, u2, 2000, 2, 2)
	b.goTo("#/sequence-store/" + store + "/upload")
	b.wait("the reference suggestions", `document.querySelectorAll("#u-ref-list option").length > 0`, 10*time.Second)
	if got := evalJS[[]string](b, `[...document.querySelectorAll("#u-ref-list option")].map(o => o.value)`); len(got) != 1 || got[0] != refArn {
		t.Errorf("the upload form suggests references %q, want the imported %s", got, refArn)
	}
	b.do("fill the upload form",
		chromedp.SetUploadFiles(chromedp.ID("u-file1"), []string{u1}),
		chromedp.SetUploadFiles(chromedp.ID("u-file2"), []string{u2}),
		chromedp.SendKeys(chromedp.ID("u-name"), "from-the-browser"),
		chromedp.SendKeys(chromedp.ID("u-subject"), "subject-b"),
		chromedp.SendKeys(chromedp.ID("u-sample"), "sample-b"),
		chromedp.Click(chromedp.ID("u-start")))
	b.wait("the upload to become ACTIVE", `document.getElementById("u-status")?.textContent === "ACTIVE"`, 60*time.Second)
	if v := evalJS[string](b, `String(document.getElementById("u-progress").value === document.getElementById("u-progress").max)`); v != "true" {
		t.Errorf("the progress bar did not reach its end")
	}
	b.screenshot("upload")
	uploaded := evalJS[string](b, `document.getElementById("u-link").textContent`)
	got, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(uploaded)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != types.ReadSetStatusActive || got.Files.Source2 == nil || aws.ToString(got.Name) != "from-the-browser" ||
		got.SequenceInformation == nil || aws.ToInt64(got.SequenceInformation.TotalReadCount) != 4000 {
		t.Errorf("the browser's upload is %s, name %q, source2 %v, info %+v", got.Status, aws.ToString(got.Name), got.Files.Source2 != nil, got.SequenceInformation)
	}
	if left := evalJS[int](b, `Object.keys(localStorage).filter(k => k.startsWith("seqstore-upload:")).length`); left != 0 {
		t.Errorf("%d uploads are still kept for resuming after completing", left)
	}

	// An upload whose connection breaks after its first part resumes after
	// a reload, sending only the parts the server lacks.
	v1, v2 := filepath.Join(dir, "resumed_R1.fq"), filepath.Join(dir, "resumed_R2.fq")
	writeConsoleFASTQ(t, v1, 5000, 1, 3) // over 1 MiB: two parts of 1 MiB
	writeConsoleFASTQ(t, v2, 5000, 2, 3)
	b.goTo("#/sequence-store/" + store + "/upload")
	// The connection "breaks" when the page sends any part 2.
	evalJS[bool](b, `(() => {
		const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
		XMLHttpRequest.prototype.open = function (m, u, ...rest) { this.broken = u.includes("partNumber=2"); return open.call(this, m, u, ...rest); };
		XMLHttpRequest.prototype.send = function (body) { if (this.broken) { setTimeout(() => this.onerror(), 0); return; } return send.call(this, body); };
		return true;
	})()`)
	fillUpload := func() {
		b.do("fill the upload form",
			chromedp.SetValue(chromedp.ID("u-part-size"), "1"),
			chromedp.SetUploadFiles(chromedp.ID("u-file1"), []string{v1}),
			chromedp.SetUploadFiles(chromedp.ID("u-file2"), []string{v2}),
			chromedp.SetValue(chromedp.ID("u-name"), "resumed"),
			chromedp.SetValue(chromedp.ID("u-subject"), "subject-r"),
			chromedp.SetValue(chromedp.ID("u-sample"), "sample-r"),
			chromedp.Click(chromedp.ID("u-start")))
	}
	fillUpload()
	b.wait("the upload to break", `!!document.querySelector("#u-result .error")`, 30*time.Second)
	b.do("reload", chromedp.Reload())
	b.wait("the upload page again", fmt.Sprintf(`document.querySelector("main").dataset.route === %q`, "#/sequence-store/"+store+"/upload"), 30*time.Second)
	if got := evalJS[string](b, `document.querySelector("main").innerText`); !strings.Contains(got, "Interrupted uploads") || !strings.Contains(got, "resumed_R1.fq") {
		t.Errorf("after the reload the upload page does not offer to resume:\n%s", got)
	}
	fillUpload()
	b.wait("the resumed upload to become ACTIVE", `document.getElementById("u-status")?.textContent === "ACTIVE"`, 60*time.Second)
	if parts := evalJS[string](b, `document.getElementById("u-resumed").dataset.parts || ""`); parts != "1" {
		t.Errorf("the resumed upload found %q parts on the server, want 1 (SOURCE1's first)", parts)
	}
	resumedID := evalJS[string](b, `document.getElementById("u-link").textContent`)
	if md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(resumedID)}); err != nil ||
		md.Status != types.ReadSetStatusActive || aws.ToInt32(md.Files.Source1.TotalParts) == 0 || aws.ToInt64(md.SequenceInformation.TotalReadCount) != 10000 {
		t.Errorf("the resumed upload is %+v (%v), want ACTIVE with 10000 reads", md, err)
	}

	// A BAM, against the imported reference.
	b.goTo("#/sequence-store/" + store + "/read-set/" + first) // off the upload page, so the form starts afresh
	b.goTo("#/sequence-store/" + store + "/upload")
	evalJS[bool](b, `(() => { const s = document.getElementById("u-type"); s.value = "BAM"; s.dispatchEvent(new Event("change")); return true; })()`)
	if hidden := evalJS[bool](b, `document.getElementById("u-file2").closest(".field").hidden && !document.getElementById("u-ref").closest(".field").hidden`); !hidden {
		t.Error("choosing BAM should hide the second file and show the reference")
	}
	b.do("upload a BAM",
		chromedp.SetUploadFiles(chromedp.ID("u-file1"), []string{d.bam}),
		chromedp.SendKeys(chromedp.ID("u-ref"), refArn),
		chromedp.SendKeys(chromedp.ID("u-name"), "bam-from-the-browser"),
		chromedp.SendKeys(chromedp.ID("u-subject"), "subject-b"),
		chromedp.SendKeys(chromedp.ID("u-sample"), "sample-b"),
		chromedp.Click(chromedp.ID("u-start")))
	b.wait("the BAM to become ACTIVE", `document.getElementById("u-status")?.textContent === "ACTIVE"`, 60*time.Second)
	bamID := evalJS[string](b, `document.getElementById("u-link").textContent`)
	if md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(bamID)}); err != nil ||
		md.FileType != types.FileTypeBam || aws.ToString(md.ReferenceArn) != refArn || md.Files.Source2 != nil {
		t.Errorf("the browser's BAM upload is %+v (%v)", md, err)
	}

	// Delete, behind a confirmation: Cancel keeps the read set.
	b.goTo("#/sequence-store/" + store + "/read-set/" + uploaded)
	b.do("ask to delete", chromedp.Click(chromedp.ID("delete-read-set")))
	b.wait("the confirmation", `document.getElementById("confirm").open`, 5*time.Second)
	b.screenshot("delete-confirm", true)
	if f := evalJS[string](b, `document.activeElement.id`); f != "confirm-cancel" {
		t.Errorf("the confirmation opens with the focus on %q, want Cancel", f)
	}
	b.do("cancel with Escape", chromedp.KeyEvent(kb.Escape))
	b.wait("the dialog to close", `!document.getElementById("confirm").open`, 5*time.Second)
	if md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(uploaded)}); err != nil || md.Status != types.ReadSetStatusActive {
		t.Fatalf("after Cancel the read set is %v (%v)", md, err)
	}
	b.do("ask to delete again with the keyboard", chromedp.Focus(chromedp.ID("delete-read-set")), chromedp.KeyEvent(kb.Enter))
	b.wait("the confirmation", `document.getElementById("confirm").open`, 5*time.Second)
	b.do("confirm with the keyboard", chromedp.KeyEvent(kb.Tab+kb.Enter)) // from Cancel to Delete
	b.wait("the store's list", fmt.Sprintf(`document.querySelector("main").dataset.route === %q`, "#/sequence-store/"+store), 30*time.Second)
	deleted := false
	for range 100 {
		md, err := c.GetReadSetMetadata(ctx, &omics.GetReadSetMetadataInput{SequenceStoreId: aws.String(store), Id: aws.String(uploaded)})
		if err != nil || md.Status == types.ReadSetStatusDeleted {
			deleted = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !deleted {
		t.Error("the confirmed delete left the read set")
	}

	// Jobs, and a job with its items.
	b.goTo("#/sequence-store/" + store + "/jobs")
	jobs := evalJS[string](b, `document.querySelector("main").innerText`)
	for _, want := range []string{"Import jobs", *imp.Id, "Export jobs", *exp.Id, "Activation jobs", "COMPLETED"} {
		if !strings.Contains(jobs, want) {
			t.Errorf("the jobs page lacks %q:\n%s", want, jobs)
		}
	}
	b.screenshot("jobs")
	b.goTo("#/sequence-store/" + store + "/job/import/" + *imp.Id)
	items := evalJS[string](b, `document.querySelector("main").innerText`)
	for _, want := range []string{"sourceFiles.source1", "r1.fq", "imported", "readSetId", "COMPLETED"} {
		if !strings.Contains(items, want) {
			t.Errorf("the import job's page lacks %q:\n%s", want, items)
		}
	}
	if n := evalJS[int](b, `document.querySelectorAll('main table a[href*="/read-set/"]').length`); n != 1 {
		t.Errorf("the import job's page links %d read sets, want its one", n)
	}
	b.screenshot("job")
	b.goTo("#/sequence-store/" + store + "/job/export/" + *exp.Id)
	if got := evalJS[string](b, `document.querySelector("main").innerText`); !strings.Contains(got, first) || !strings.Contains(got, "destination") {
		t.Errorf("the export job's page lacks its read set %s or destination:\n%s", first, got)
	}

	// Sign-out ends the session on the server: its cookie no longer works.
	b.do("sign out", chromedp.Click(chromedp.ID("sign-out")))
	b.wait("the sign-in form", `!!document.getElementById("access-key-id")`, 10*time.Second)
	status := evalJS[int](b, `fetch("/sequencestores", {method: "POST", body: "{}"}).then(r => r.status)`)
	if status != 403 {
		t.Errorf("after sign-out an API call answers %d, want 403", status)
	}
	t.Logf("screenshots in %s", b.shots)
}

func first1(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// consoleSignIn signs key in to the console and returns the session cookie
// and the CSRF token.
func consoleSignIn(t testing.TB, in *instance, key seqstore.AccessKey) (*http.Cookie, string) {
	t.Helper()
	body := fmt.Sprintf(`{"accessKeyId":%q,"secretAccessKey":%q}`, key.ID, key.Secret)
	resp, err := http.Post(in.endpoint+"/console/session", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ CSRFToken string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, err)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "seqstore_console" {
			return c, info.CSRFToken
		}
	}
	t.Fatal("sign-in set no session cookie")
	return nil, ""
}

// The storage API takes a console session instead of a signature, for the
// session's account only, and for anything but a GET read only with the
// session's CSRF header; a signed request is judged by its signature alone.
func TestConsoleSessionOnTheAPI(t *testing.T) {
	in := start(t, backends[0], nil)
	root := in.rootKey()
	other := in.newAccount(t, "210987654321")
	rootStore := newStore(t, in.goClient(root), "")
	otherStore := newStore(t, in.goClient(other), "")
	ck, csrf := consoleSignIn(t, in, root)
	forged := &http.Cookie{Name: ck.Name, Value: "AAAA" + ck.Value[4:]}

	tests := []struct {
		name         string
		method, path string
		cookie       *http.Cookie
		csrf         string
		signWith     *seqstore.AccessKey
		status       int
		want         string // in the body
	}{
		{"a list with the cookie and the header", "POST", "/sequencestores", ck, csrf, nil, 200, rootStore},
		{"a list without the header", "POST", "/sequencestores", ck, "", nil, 403, "AccessDeniedException"},
		{"a list with another token", "POST", "/sequencestores", ck, csrf[1:] + "A", nil, 403, "X-Seqstore-Csrf"},
		{"a GET read with the cookie alone", "GET", "/sequencestore/" + rootStore, ck, "", nil, 200, rootStore},
		{"another account's store", "GET", "/sequencestore/" + otherStore, ck, csrf, nil, 404, "ResourceNotFoundException"},
		{"a forged cookie", "POST", "/sequencestores", forged, csrf, nil, 403, "sign in again"},
		{"a create with the cookie and the header", "POST", "/sequencestore", ck, csrf, nil, 200, `"id"`},
		{"a signed request beside the cookie acts as its signer", "POST", "/sequencestores", ck, csrf, &other, 200, otherStore},
		{"no cookie, no signature", "POST", "/sequencestores", nil, csrf, nil, 403, "MissingAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := ""
			if tt.method == "POST" {
				body = `{"name":"from-a-session"}`
				if strings.HasSuffix(tt.path, "s") {
					body = "{}"
				}
			}
			req, err := http.NewRequest(tt.method, in.endpoint+tt.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			if tt.csrf != "" {
				req.Header.Set("X-Seqstore-Csrf", tt.csrf)
			}
			if tt.signWith != nil {
				sum := sha256.Sum256([]byte(body))
				signNow(t, req, tt.signWith.ID, tt.signWith.Secret, hex.EncodeToString(sum[:]))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(got), tt.want) {
				t.Fatalf("%d %s, want %d with %q", resp.StatusCode, got, tt.status, tt.want)
			}
			if tt.signWith != nil && strings.Contains(string(got), rootStore) {
				t.Errorf("the signed request saw the session's store: %s", got)
			}
		})
	}
}

// BenchmarkConsoleFirstPage measures the console's first read-set page: a
// ListReadSets of 50 from a store of 10,000 read sets, authenticated by a
// console session, over loopback HTTP.
func BenchmarkConsoleFirstPage(b *testing.B) {
	in := start(b, backends[0], nil)
	key := in.rootKey()
	st, err := in.goClient(key).CreateSequenceStore(context.Background(), &omics.CreateSequenceStoreInput{Name: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	if err := seedReadSets(in, *st.Id, 10000); err != nil {
		b.Fatal(err)
	}
	ck, csrf := consoleSignIn(b, in, key)
	client := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		req, _ := http.NewRequest("POST", in.endpoint+"/sequencestore/"+*st.Id+"/readsets?maxResults=50", strings.NewReader(`{"filter":{}}`))
		req.AddCookie(ck)
		req.Header.Set("X-Seqstore-Csrf", csrf)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
