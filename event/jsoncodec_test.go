package event

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// stdDecode is what decodeJSON must agree with.
func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, &json.SyntaxError{}
	}
	// Decoder.More does not see non-space garbage after the value; Valid does.
	if !json.Valid(data) {
		return nil, &json.SyntaxError{}
	}
	return v, nil
}

func checkCodec(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := stdDecode(data)
	got, gotErr := decodeJSON(data)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("decode %q: error %v, encoding/json says %v", data, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode %q:\n got %#v\nwant %#v", data, got, want)
	}
	wantEnc, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	gotEnc, err := MarshalData(got)
	if err != nil {
		t.Fatalf("encode %#v: %v", got, err)
	}
	if !bytes.Equal(gotEnc, wantEnc) {
		t.Fatalf("encode %q:\n got %s\nwant %s", data, gotEnc, wantEnc)
	}
}

var codecCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `"x"`,
	` {"a" : [1, 2, {"b": null}], "c": "d"} `,
	`{"a":1,"a":2}`,
	`{"s":"tab\there \"q\" \\ \/ \b\f\n\r \u00e9 \u2028 \ud83d\ude00 <b>&amp;</b>"}`,
	`"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, `"\ud83d\ude00\ud83d"`, `"\u0000"`,
	"\"\xff\xfe bad utf-8 \xc3\"", "\"\u00e9\u2029\"", "\"\x7f\"",
	`{"deep":[[[[[[[[[[{"x":[1,[2,[3]]]}]]]]]]]]]]}`,
	// Invalid.
	``, ` `, `{`, `[1,]`, `{"a":}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `1e`, `-`, `.5`, `+1`,
	`"abc`, "\"a\nb\"", `"\x"`, `"\u12"`, `"\u12g4"`, `tru`, `nul`, `[1 2]`, `{} {}`, `{}x`, `[1]]`,
	`{"a":1,}`, `NaN`, `1e400`,
}

func TestJSONCodecAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range codecCases {
		checkCodec(t, []byte(c))
	}
	files, _ := filepath.Glob("../grouping/testdata/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checkCodec(t, data)
	}
}

func FuzzJSONCodec(f *testing.F) {
	for _, c := range codecCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if JSONDepth(data) > 100 {
			return
		}
		checkCodec(t, data)
	})
}

func BenchmarkDecodeEncode(b *testing.B) {
	files, _ := filepath.Glob("../grouping/testdata/*.json")
	if len(files) == 0 {
		b.Skip("no fixtures")
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		v, err := decodeJSON(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := MarshalData(v); err != nil {
			b.Fatal(err)
		}
	}
}
