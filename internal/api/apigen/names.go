package main

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
)

// exported turns a model member name into a Go field name the way the AWS Go
// SDK does (upper-case the first letter: id → Id, eTagAlgorithmFamily →
// ETagAlgorithmFamily), so handler code reads like SDK code.
func exported(name string) string {
	if name == "" {
		return name
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// enumConstName builds the Go constant for an enum value the way the AWS Go
// SDK does: ReadSetStatus + "PROCESSING_UPLOAD" → ReadSetStatusProcessingUpload,
// ETagAlgorithm + "FASTQ_MD5up" → ETagAlgorithmFastqMd5up.
func enumConstName(typeName, value string) string {
	var b strings.Builder
	b.WriteString(typeName)
	for _, word := range strings.FieldsFunc(value, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		lower := []rune(strings.ToLower(word))
		lower[0] = unicode.ToUpper(lower[0])
		b.WriteString(string(lower))
	}
	return b.String()
}

var (
	htmlTag    = regexp.MustCompile(`<[^>]*>`)
	whitespace = regexp.MustCompile(`\s+`)
)

// firstSentence turns a model documentation string (HTML) into its first
// sentence as plain text, for a doc comment.
func firstSentence(doc string) string {
	text := html.UnescapeString(htmlTag.ReplaceAllString(doc, " "))
	text = strings.TrimSpace(whitespace.ReplaceAllString(text, " "))
	if i := strings.Index(text, ". "); i >= 0 {
		text = text[:i+1]
	}
	return text
}

// docComment renders text as a // comment wrapped near 100 columns.
func docComment(indent, text string) string {
	var b strings.Builder
	line := indent + "//"
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > 100 && line != indent+"//" {
			b.WriteString(line + "\n")
			line = indent + "//"
		}
		line += " " + word
	}
	b.WriteString(line + "\n")
	return b.String()
}

// goQuote renders s as a Go string literal, preferring a raw string so the
// model's regular expressions stay readable.
func goQuote(s string) string {
	if !strings.Contains(s, "`") && !strings.ContainsAny(s, "\n\r") {
		return "`" + s + "`"
	}
	return fmt.Sprintf("%q", s)
}
