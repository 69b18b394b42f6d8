package metrics

import (
	"embed"
	"io/fs"
	"net/http"
)

// The dashboard is hand-written HTML, CSS and JavaScript (a canvas chart, no library), all
// embedded in the binary: it loads nothing from outside the replica.
//
//go:embed web
var webFS embed.FS

func staticFS() fs.FS {
	sub, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}

// staticHandler serves /static/<file> from the embedded web folder.
func staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(staticFS()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}

// indexHandler serves the dashboard page.
func indexHandler(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(staticFS(), "index.html")
	if err != nil {
		http.Error(w, "dashboard missing from the binary", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
	_, _ = w.Write(b)
}
