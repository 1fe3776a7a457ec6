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
			if i := strings.Index(line, t[1]); i >= 0 {
				col = utf8.RuneCountInString(line[:i]) + 1
			}
		}
	}
	if col == 0 {
		return err
	}
	return fmt.Errorf("template: %s:%d:%d: %s", m[1], lineNo, col, m[3])
}
