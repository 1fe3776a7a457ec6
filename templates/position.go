package templates

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseErrorRE reads Go's template parse errors, which name the line only:
// "template: NAME:LINE: MESSAGE".
var parseErrorRE = regexp.MustCompile(`^template: (.+?):(\d+): (.*)$`)

// tokenREs find in a parse error's message the text it complains about.
var tokenREs = []*regexp.Regexp{
	regexp.MustCompile(`"([^"]+)"`),              // function "oops" not defined
	regexp.MustCompile(`unexpected (\{\{.*?}})`), // unexpected {{end}}
	regexp.MustCompile(`'(.)'`),                  // bad character U+007D '}'
	regexp.MustCompile(`unexpected (\S+)`),       // unexpected <.> in operand
}

// tokenIndex finds token on a line, in its template actions first (where
// a parse error is: a JSON or HTML template has the same characters
// around them), else anywhere; -1 when it is not there.
func tokenIndex(line, token string) int {
	for start := 0; ; {
		open := strings.Index(line[start:], "{{")
		if open < 0 {
			break
		}
		open += start
		end := len(line)
		if c := strings.Index(line[open:], "}}"); c >= 0 {
			end = open + c + 2
		}
		if i := strings.Index(line[open:end], token); i >= 0 {
			return open + i
		}
		start = end
	}
	return strings.Index(line, token)
}

// withColumn adds the column to a parse error when the text it complains
// about can be found on its line, so that every error of Check says line
// and column: "template: NAME:LINE:COL: MESSAGE". Other errors (execution
// errors, which have both already) are returned as they are.
func withColumn(err error, body string) error {
	m := parseErrorRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	lineNo, _ := strconv.Atoi(m[2])
	lines := strings.Split(body, "\n")
	if lineNo < 1 || lineNo > len(lines) {
		return err
	}
	line := lines[lineNo-1]
	col := 0
	if strings.Contains(m[3], "unexpected EOF") {
		col = utf8.RuneCountInString(line) + 1
	}
	for _, re := range tokenREs {
		if col > 0 {
			break
		}
		if t := re.FindStringSubmatch(m[3]); t != nil {
			if i := tokenIndex(line, t[1]); i >= 0 {
				col = utf8.RuneCountInString(line[:i]) + 1
			}
		}
	}
	if col == 0 {
		return err
	}
	return fmt.Errorf("template: %s:%d:%d: %s", m[1], lineNo, col, m[3])
}
