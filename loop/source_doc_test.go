package loop

import (
	"os"
	"strings"
	"testing"
)

// srcTWords splits a documented command line like a shell would (single quotes only) and
// drops a trailing # comment.
func srcTWords(line string) []string {
	var words []string
	var cur strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case !quoted && r == '#' && !inWord:
			return words
		case !quoted && (r == ' ' || r == '\t'):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestSourcesDocExamplesParse parses every --metric, --target and --source example of
// SOURCES.md, block by block (a block's --source entries are visible to its expressions).
func TestSourcesDocExamplesParse(t *testing.T) {
	doc, err := os.ReadFile("SOURCES.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```")
	checked := 0
	for i := 1; i < len(blocks); i += 2 { // odd pieces are inside fences
		if strings.Contains(blocks[i], "invalid source spec") {
			continue // the config error examples
		}
		var named []string
		var specs [][2]string // flag, spec
		for _, line := range strings.Split(blocks[i], "\n") {
			w := srcTWords(strings.TrimSpace(line))
			for j := 0; j+1 < len(w); j += 2 {
				switch w[j] {
				case "--source":
					named = append(named, w[j+1])
				case "--metric", "--target":
					specs = append(specs, [2]string{w[j], w[j+1]})
				}
			}
		}
		if len(specs) == 0 && len(named) > 0 {
			specs = append(specs, [2]string{"--metric", "0"})
		}
		for _, s := range specs {
			metric, target := s[1], "0"
			if s[0] == "--target" {
				metric, target = "0", s[1]
			}
			if _, err := ParseSources(metric, target, named, SourceOptions{}); err != nil {
				t.Errorf("SOURCES.md example %s %q (with %q): %v", s[0], s[1], named, err)
			}
			checked++
		}
	}
	if checked < 12 {
		t.Errorf("only %d examples found in SOURCES.md", checked)
	}
}
