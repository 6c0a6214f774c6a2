package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed templates/mail.txt templates/mail.html
var templateFS embed.FS

// Rendered is a mail ready to send: a subject and two bodies, plain text
// and HTML, saying the same.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
	// Link is the link the mail is about (the demo's log shows it).
	Link string
}

// Renderer turns messages into mails in the shop's language, naming the
// shop. The words are per language and kind (words.go); the layout is one
// text and one HTML template.
type Renderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewRenderer parses the embedded templates.
func NewRenderer() (*Renderer, error) {
	text, err := texttemplate.ParseFS(templateFS, "templates/mail.txt")
	if err != nil {
		return nil, err
	}
	html, err := htmltemplate.ParseFS(templateFS, "templates/mail.html")
	if err != nil {
		return nil, err
	}
	return &Renderer{text: text, html: html}, nil
}

// view is what both templates get.
type view struct {
	Lang     string
	T        map[string]string
	Subject  string
	Name     string
	Shop     string
	Link     string
	ValidFor string
}

// Render writes m in its shop's language.
func (r *Renderer) Render(m Message) (Rendered, error) {
	lang := Language(m.Locale)
	t, ok := words[lang][m.Kind]
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no words for kind %q", m.Kind)
	}
	shop := m.ShopName
	if shop == "" {
		shop = "shopauth"
	}
	v := view{
		Lang: lang, T: withShop(t, shop), Subject: strings.ReplaceAll(t["subject"], "{shop}", shop),
		Name: m.Name, Shop: shop, Link: m.Link, ValidFor: validFor(lang, m.ValidFor),
	}
	var text, html bytes.Buffer
	if err := r.text.Execute(&text, v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render text: %w", err)
	}
	if err := r.html.Execute(&html, v); err != nil {
		return Rendered{}, fmt.Errorf("mail: render html: %w", err)
	}
	return Rendered{Subject: v.Subject, Text: text.String(), HTML: html.String(), Link: m.Link}, nil
}

// withShop fills the shop's name into the words.
func withShop(t map[string]string, shop string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = strings.ReplaceAll(v, "{shop}", shop)
	}
	return out
}

// Language picks the mail language from a shop locale ("es", "es_ES",
// "es-MX" → es); everything else is English, as on the hosted pages.
func Language(locale string) string {
	l := strings.ToLower(locale)
	if l == "es" || strings.HasPrefix(l, "es_") || strings.HasPrefix(l, "es-") {
		return "es"
	}
	return "en"
}

// validFor says how long a link works, in whole hours or minutes.
func validFor(lang string, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf(words[lang]["valid"]["text"], n, words[lang]["valid"][unit])
}
