package main

import (
	"fmt"
	"sort"
	"strings"
)

// route is one URI template with the operations (one per method) on it.
type route struct {
	segs    []string // literal segments, or "" for a label
	labels  []string // label names, "" for literal segments
	methods map[string]*operation
}

func (r *route) key() string { return strings.Join(r.segs, "/") }

// less orders routes so a template with a literal where another has a label
// is tried first; a request that fails the literal falls through to the label.
func (r *route) less(o *route) bool {
	for i := range r.segs {
		a, b := r.segs[i], o.segs[i]
		if a == b {
			continue
		}
		if a == "" || b == "" {
			return a != ""
		}
		return a < b
	}
	return false
}

func (g *generator) routes() (map[int][]*route, error) {
	byKey := map[string]*route{}
	for _, op := range g.ops {
		uri := op.HTTP.RequestURI
		if !strings.HasPrefix(uri, "/") || strings.ContainsAny(uri, "?+") {
			return nil, fmt.Errorf("%s: URI %q has a query part, a greedy label or no leading slash", op.Name, uri)
		}
		r := &route{methods: map[string]*operation{}}
		for _, seg := range strings.Split(uri[1:], "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				r.segs = append(r.segs, "")
				r.labels = append(r.labels, seg[1:len(seg)-1])
			} else {
				if strings.ContainsAny(seg, "{}%") || seg == "" {
					return nil, fmt.Errorf("%s: URI segment %q is neither a literal nor a whole label", op.Name, seg)
				}
				r.segs = append(r.segs, seg)
				r.labels = append(r.labels, "")
			}
		}
		if prev, ok := byKey[r.key()]; ok {
			r = prev
		} else {
			byKey[r.key()] = r
		}
		if other, ok := r.methods[op.HTTP.Method]; ok {
			return nil, fmt.Errorf("%s and %s share %s %s", op.Name, other.Name, op.HTTP.Method, uri)
		}
		r.methods[op.HTTP.Method] = op
	}
	byLen := map[int][]*route{}
	for _, r := range byKey {
		byLen[len(r.segs)] = append(byLen[len(r.segs)], r)
	}
	for _, rs := range byLen {
		sort.Slice(rs, func(i, j int) bool { return rs[i].less(rs[j]) })
	}
	return byLen, nil
}

// labelIndex returns the segment index of label name in op's URI.
func labelIndex(op *operation, name string) int {
	for i, seg := range strings.Split(op.HTTP.RequestURI[1:], "/") {
		if seg == "{"+name+"}" {
			return i
		}
	}
	panic(op.Name + ": no label " + name)
}

func (g *generator) genRouter() *file {
	f := newFile("router_gen.go", "net/http")
	byLen, err := g.routes()
	if err != nil {
		panic(err)
	}
	var lens []int
	for n := range byLen {
		lens = append(lens, n)
	}
	sort.Ints(lens)
	maxLen := lens[len(lens)-1]

	f.p("// maxPathSegments is the most segments any URI template has.")
	f.p("const maxPathSegments = %d", maxLen)
	f.p("")
	f.p("// matchRoute finds the operation for method and the unescaped-later path")
	f.p("// segments segs. When the path fits a URI template that has no operation for")
	f.p("// method, op is nil and allow lists the template's methods.")
	f.p("func matchRoute(method string, segs []string) (op *Operation, serve serveFunc, allow string) {")
	f.p("\tswitch len(segs) {")
	for _, n := range lens {
		f.p("\tcase %d:", n)
		for _, r := range byLen[n] {
			var conds []string
			for i, seg := range r.segs {
				if seg != "" {
					conds = append(conds, fmt.Sprintf("segs[%d] == %q", i, seg))
				}
			}
			if len(conds) == 0 {
				conds = append(conds, "true")
			}
			var methods []string
			for m := range r.methods {
				methods = append(methods, m)
			}
			sort.Strings(methods)
			f.p("\t\tif %s {", strings.Join(conds, " && "))
			f.p("\t\t\tswitch method {")
			for _, m := range methods {
				op := r.methods[m]
				f.p("\t\t\tcase %q:", m)
				f.p("\t\t\t\treturn Op%s, serve%s, \"\"", op.Name, op.Name)
			}
			f.p("\t\t\t}")
			f.p("\t\t\treturn nil, nil, %q", strings.Join(methods, ", "))
			f.p("\t\t}")
		}
	}
	f.p("\t}")
	f.p("\treturn nil, nil, \"\"")
	f.p("}")

	for _, op := range g.ops {
		g.genServe(f, op)
	}
	return f
}

func (g *generator) genServe(f *file, op *operation) {
	out := g.m.shape(op.Output.Shape)
	fields := g.fields(op.Input.Shape)
	hasBody, hasQuery := false, false
	for _, fd := range fields {
		switch {
		case fd.ref.Location == "querystring":
			hasQuery = true
		case fd.ref.Location == "" && fd.kind != kindStreamIn:
			hasBody = true
		}
	}
	f.p("")
	f.p("// serve%s binds, validates and answers %s %s.", op.Name, op.HTTP.Method, op.HTTP.RequestURI)
	f.p("func serve%s(rt *router, w http.ResponseWriter, r *http.Request, st *requestState) {", op.Name)
	f.p("\tin := new(%sInput)", op.Name)
	f.p("\tc := &st.check")
	if hasBody {
		f.p("\tif e := rt.decodeBody(r, st, in); e != nil {")
		f.p("\t\trt.writeError(w, st, e)")
		f.p("\t\treturn")
		f.p("\t}")
	}
	if hasQuery {
		f.p("\tq := r.URL.Query()")
	}
	for _, fd := range fields {
		target := "in." + fd.goName
		switch fd.ref.Location {
		case "uri":
			if fd.kind != kindString {
				panic(op.Name + ": non-string label " + fd.member)
			}
			f.p("\t%s = c.label(%q, st.segs[%d])", target, fd.member, labelIndex(op, fd.ref.LocationName))
		case "querystring":
			key := fd.ref.LocationName
			switch fd.kind {
			case kindString:
				f.p("\t%s = queryString(q, %q)", target, key)
			case kindEnum:
				f.p("\t%s = %s(queryString(q, %q))", target, fd.goType, key)
			case kindInt, kindIntPtr:
				bits := map[string]int{"integer": 32, "long": 64}[fd.shape.Type]
				goInt := strings.TrimPrefix(fd.goType, "*")
				f.p("\tif v, ok := c.queryInt(q, %q, %q, %d); ok {", key, fd.member, bits)
				if fd.kind == kindInt {
					f.p("\t\t%s = %s(v)", target, goInt)
					f.p("\t} else {")
					f.p("\t\tc.null(%q)", fd.member)
				} else {
					f.p("\t\tn := %s(v)", goInt)
					f.p("\t\t%s = &n", target)
				}
				f.p("\t}")
			case kindList:
				if g.elemType(fd.shape.Member.Shape) != "string" {
					panic(op.Name + ": query list of non-strings " + fd.member)
				}
				f.p("\t%s = q[%q]", target, key)
			default:
				panic(fmt.Sprintf("%s: query member %s of kind %d", op.Name, fd.member, fd.kind))
			}
		case "header":
			if fd.kind != kindString {
				panic(op.Name + ": non-string header " + fd.member)
			}
			f.p("\t%s = r.Header.Get(%q)", target, fd.ref.LocationName)
		case "":
			if fd.kind == kindStreamIn {
				f.p("\t%s = r.Body", target)
				f.p("\tin.ContentLength = r.ContentLength")
				if fd.shape.RequiresLength {
					f.p("\tif r.ContentLength < 0 {")
					f.p("\t\tc.failMessage(%q)", op.Name+" needs a Content-Length header: the "+fd.member+" may not be sent chunked")
					f.p("\t}")
				}
			}
		default:
			panic(op.Name + ": unknown location " + fd.ref.Location)
		}
	}
	f.p("\tif !c.failed() {")
	f.p("\t\tin.validate(c)")
	f.p("\t}")
	f.p("\tif c.failed() {")
	f.p("\t\trt.writeError(w, st, c.err())")
	f.p("\t\treturn")
	f.p("\t}")
	f.p("\tout, err := rt.h.%s(st.ctx, in)", op.Name)
	f.p("\tif err != nil {")
	f.p("\t\trt.writeHandlerError(w, st, err)")
	f.p("\t\treturn")
	f.p("\t}")
	code := op.HTTP.ResponseCode
	if code == 0 {
		code = 200
	}
	switch {
	case out.Payload != "" && g.m.shape(memberShape(out, out.Payload)).Streaming:
		f.p("\tif out == nil {")
		f.p("\t\tout = &%sOutput{}", op.Name)
		f.p("\t}")
		f.p("\trt.writeStream(w, st, %d, out.%s, out.ContentLength)", code, exported(out.Payload))
	case code == 204:
		if len(out.Members) > 0 {
			panic(op.Name + ": 204 with output members")
		}
		f.p("\t_ = out")
		f.p("\trt.writeNoContent(w, st, %d)", code)
	default:
		f.p("\tif out == nil {")
		f.p("\t\tout = &%sOutput{}", op.Name)
		f.p("\t}")
		f.p("\trt.writeJSON(w, st, %d, out)", code)
	}
	f.p("}")
}

// rules collects the constraint variables validators refer to.
type rules struct {
	decls map[string]string // variable name → declaration
}

func (rs *rules) add(name, decl string) string {
	rs.decls[name] = decl
	return name
}

func (g *generator) stringRule(rs *rules, shapeName string) string {
	s := g.m.shape(shapeName)
	minLen, hasMin := bound(s.Min)
	maxLen, hasMax := bound(s.Max)
	if !hasMin && !hasMax && s.Pattern == "" {
		return ""
	}
	if !hasMin {
		minLen = -1
	}
	if !hasMax {
		maxLen = -1
	}
	pattern := "nil"
	if s.Pattern != "" {
		pattern = g.patternVar[s.Pattern]
	}
	return rs.add("ruleString"+shapeName, fmt.Sprintf("stringRule{min: %d, max: %d, pattern: %s}", minLen, maxLen, pattern))
}

func (g *generator) intRule(rs *rules, shapeName string) string {
	s := g.m.shape(shapeName)
	minV, hasMin := bound(s.Min)
	maxV, hasMax := bound(s.Max)
	if !hasMin && !hasMax {
		return ""
	}
	return rs.add("ruleInt"+shapeName, fmt.Sprintf("intRule{min: %d, max: %d, hasMin: %v, hasMax: %v}", minV, maxV, hasMin, hasMax))
}

func (g *generator) sizeRule(rs *rules, shapeName string) string {
	s := g.m.shape(shapeName)
	minN, hasMin := bound(s.Min)
	maxN, hasMax := bound(s.Max)
	if !hasMin && !hasMax {
		return ""
	}
	if !hasMin {
		minN = -1
	}
	if !hasMax {
		maxN = -1
	}
	return rs.add("ruleSize"+shapeName, fmt.Sprintf("sizeRule{min: %d, max: %d}", minN, maxN))
}

func (g *generator) genValidators() *file {
	f := newFile("validators_gen.go")
	rs := &rules{decls: map[string]string{}}
	var body file
	var names []string
	for name := range g.inReach {
		if g.m.shape(name).Type == "structure" {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool { return g.goName[names[i]] < g.goName[names[j]] })
	for _, name := range names {
		body.p("")
		body.p("// validate checks %s against the model's constraints.", g.goName[name])
		body.p("func (v *%s) validate(c *validator) {", g.goName[name])
		for _, fd := range g.fields(name) {
			g.checkMember(&body, rs, fd, "v."+fd.goName)
		}
		body.p("}")
	}
	f.p("// Patterns of the model, each matched against the whole value.")
	f.p("var (")
	for _, p := range g.patterns {
		if re2 := re2Translation(p); re2 != p {
			f.p("\t%s = newPatternRE2(%s, %s)", g.patternVar[p], goQuote(p), goQuote(re2))
		} else {
			f.p("\t%s = newPattern(%s)", g.patternVar[p], goQuote(p))
		}
	}
	f.p(")")
	f.p("")
	f.p("// Length, range and size constraints of the model's shapes.")
	f.p("var (")
	var ruleNames []string
	for n := range rs.decls {
		ruleNames = append(ruleNames, n)
	}
	sort.Strings(ruleNames)
	for _, n := range ruleNames {
		f.p("\t%s = %s", n, rs.decls[n])
	}
	f.p(")")
	f.buf.Write(body.buf.Bytes())
	return f
}

// checkMember writes the checks of one member whose Go value is expr.
func (g *generator) checkMember(f *file, rs *rules, fd field, expr string) {
	m := fmt.Sprintf("%q", fd.member)
	switch fd.kind {
	case kindString:
		rule := g.stringRule(rs, fd.ref.Shape)
		switch {
		case fd.required && rule != "":
			f.p("\tif %s == \"\" {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t} else {")
			f.p("\t\tc.str(%s, %s, &%s)", m, expr, rule)
			f.p("\t}")
		case fd.required:
			f.p("\tif %s == \"\" {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t}")
		case rule != "":
			f.p("\tif %s != \"\" {", expr)
			f.p("\t\tc.str(%s, %s, &%s)", m, expr, rule)
			f.p("\t}")
		}
	case kindStringPtr:
		if rule := g.stringRule(rs, fd.ref.Shape); rule != "" {
			f.p("\tif %s != nil {", expr)
			f.p("\t\tc.str(%s, *%s, &%s)", m, expr, rule)
			f.p("\t}")
		}
	case kindEnum:
		if fd.required {
			f.p("\tif %s == \"\" {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t} else if !%s.valid() {", expr)
		} else {
			f.p("\tif %s != \"\" && !%s.valid() {", expr, expr)
		}
		f.p("\t\tc.enum(%s, string(%s), enumValueSet%s)", m, expr, fd.ref.Shape)
		f.p("\t}")
	case kindInt:
		if rule := g.intRule(rs, fd.ref.Shape); rule != "" {
			f.p("\tc.intRange(%s, int64(%s), &%s)", m, expr, rule)
		}
	case kindIntPtr:
		if rule := g.intRule(rs, fd.ref.Shape); rule != "" {
			f.p("\tif %s != nil {", expr)
			f.p("\t\tc.intRange(%s, int64(*%s), &%s)", m, expr, rule)
			f.p("\t}")
		}
	case kindTime, kindBool:
		if fd.required && fd.kind == kindTime {
			f.p("\tif %s.IsZero() {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t}")
		}
	case kindTimePtr, kindBoolPtr, kindStreamIn:
	case kindStruct:
		if fd.required {
			f.p("\tif %s == nil {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t} else {")
		} else {
			f.p("\tif %s != nil {", expr)
		}
		f.p("\t\tc.enter(%s)", m)
		f.p("\t\t%s.validate(c)", expr)
		f.p("\t\tc.leave()")
		f.p("\t}")
	case kindList:
		g.checkList(f, rs, fd, expr, m)
	case kindMap:
		if fd.required {
			f.p("\tif %s == nil {", expr)
			f.p("\t\tc.null(%s)", m)
			f.p("\t}")
		}
		if g.m.shape(fd.shape.Value.Shape).Type != "string" {
			panic("map of non-strings: " + fd.member)
		}
		rule := func(name string) string {
			if name == "" {
				return "nil"
			}
			return "&" + name
		}
		f.p("\tc.stringMap(%s, %s, %s, %s, %s)", m, expr, rule(g.sizeRule(rs, fd.ref.Shape)),
			rule(g.stringRule(rs, fd.shape.Key.Shape)), rule(g.stringRule(rs, fd.shape.Value.Shape)))
	default:
		panic(fmt.Sprintf("member %s: kind %d has no checks", fd.member, fd.kind))
	}
}

func (g *generator) checkList(f *file, rs *rules, fd field, expr, m string) {
	elemName := fd.shape.Member.Shape
	elem := g.m.shape(elemName)
	// An absent list is null (when required) and has no length to check.
	if fd.required {
		f.p("\tif %s == nil {", expr)
		f.p("\t\tc.null(%s)", m)
		f.p("\t}")
	}
	if rule := g.sizeRule(rs, fd.ref.Shape); rule != "" {
		render := fmt.Sprintf("renderCount(len(%s))", expr)
		if elem.Type == "string" && len(elem.Enum) == 0 {
			render = fmt.Sprintf("renderStrings(%s)", expr)
		}
		f.p("\tif %s != nil && !%s.ok(len(%s)) {", expr, rule, expr)
		f.p("\t\tc.sizeFail(%s, %s, len(%s), &%s)", m, render, expr, rule)
		f.p("\t}")
	}
	var elemCheck string
	switch {
	case elem.Type == "structure":
		elemCheck = "\t\t%s[i].validate(c)"
	case elem.Type == "string" && len(elem.Enum) > 0:
		elemCheck = "\t\tif !%[1]s[i].valid() {\n\t\t\tc.enum(\"\", string(%[1]s[i]), enumValueSet" + elemName + ")\n\t\t}"
	case elem.Type == "string":
		if rule := g.stringRule(rs, elemName); rule != "" {
			elemCheck = "\t\tc.str(\"\", %s[i], &" + rule + ")"
		}
	default:
		panic("list of " + elem.Type + ": " + fd.member)
	}
	if elemCheck == "" {
		return
	}
	f.p("\tc.enter(%s)", m)
	f.p("\tfor i := range %s {", expr)
	f.p("\t\tc.enterIndex(i)")
	f.p(elemCheck, expr)
	f.p("\t\tc.leave()")
	f.p("\t}")
	f.p("\tc.leave()")
}

func (g *generator) genJSON() *file {
	f := newFile("json_gen.go", "strconv")
	var names []string
	for name := range g.outReach {
		s := g.m.shape(name)
		if s.Type != "structure" {
			continue
		}
		if s.Payload != "" && g.m.shape(memberShape(s, s.Payload)).Streaming {
			continue
		}
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return g.goName[names[i]] < g.goName[names[j]] })
	for _, name := range names {
		goName := g.goName[name]
		fields := g.fields(name)
		f.p("")
		f.p("// appendJSON appends v as a JSON object: required members always, optional")
		f.p("// ones when set; required lists and maps as [] and {} when nil.")
		f.p("func (v *%s) appendJSON(b []byte) []byte {", goName)
		if len(fields) == 0 {
			f.p("\treturn append(b, '{', '}')")
			f.p("}")
		} else {
			f.p("\tb = append(b, '{')")
			f.p("\tstart := len(b)")
			for _, fd := range fields {
				g.encodeMember(f, fd, "v."+fd.goName)
			}
			f.p("\treturn append(b, '}')")
			f.p("}")
		}
		f.p("")
		f.p("// MarshalJSON encodes v as the wire does.")
		f.p("func (v %s) MarshalJSON() ([]byte, error) {", goName)
		f.p("\treturn v.appendJSON(nil), nil")
		f.p("}")
	}
	return f
}

func (g *generator) encodeMember(f *file, fd field, expr string) {
	key := fmt.Sprintf("\tb = appendKey(b, start, %q)", fd.member)
	guarded := func(cond string, lines ...string) {
		if cond != "" {
			f.p("\tif %s {", cond)
		}
		f.p("%s", key)
		for _, l := range lines {
			f.p("\t%s", l)
		}
		if cond != "" {
			f.p("\t}")
		}
	}
	opt := func(cond string) string {
		if fd.required {
			return ""
		}
		return cond
	}
	switch fd.kind {
	case kindString:
		guarded(opt(expr+` != ""`), fmt.Sprintf("b = appendString(b, %s)", expr))
	case kindStringPtr:
		guarded(expr+" != nil", fmt.Sprintf("b = appendString(b, *%s)", expr))
	case kindEnum:
		guarded(opt(expr+` != ""`), fmt.Sprintf("b = appendString(b, string(%s))", expr))
	case kindInt:
		guarded("", fmt.Sprintf("b = strconv.AppendInt(b, int64(%s), 10)", expr))
	case kindIntPtr:
		guarded(expr+" != nil", fmt.Sprintf("b = strconv.AppendInt(b, int64(*%s), 10)", expr))
	case kindBool:
		guarded("", fmt.Sprintf("b = strconv.AppendBool(b, %s)", expr))
	case kindBoolPtr:
		guarded(expr+" != nil", fmt.Sprintf("b = strconv.AppendBool(b, *%s)", expr))
	case kindTime:
		guarded("", fmt.Sprintf("b = %s.appendJSON(b)", expr))
	case kindTimePtr, kindStruct:
		guarded(expr+" != nil", fmt.Sprintf("b = %s.appendJSON(b)", expr))
	case kindMap:
		if g.m.shape(fd.shape.Value.Shape).Type != "string" {
			panic("map of non-strings: " + fd.member)
		}
		guarded(opt("len("+expr+") > 0"), fmt.Sprintf("b = appendStringMap(b, %s)", expr))
	case kindList:
		elem := g.m.shape(fd.shape.Member.Shape)
		switch {
		case elem.Type == "structure":
			guarded(opt("len("+expr+") > 0"),
				"b = append(b, '[')",
				fmt.Sprintf("for i := range %s {", expr),
				"\tif i > 0 {",
				"\t\tb = append(b, ',')",
				"\t}",
				fmt.Sprintf("\tb = %s[i].appendJSON(b)", expr),
				"}",
				"b = append(b, ']')")
		case elem.Type == "string" && len(elem.Enum) == 0:
			guarded(opt("len("+expr+") > 0"), fmt.Sprintf("b = appendStrings(b, %s)", expr))
		default:
			panic("list of " + elem.Type + ": " + fd.member)
		}
	default:
		panic(fmt.Sprintf("member %s: kind %d cannot be encoded", fd.member, fd.kind))
	}
}
