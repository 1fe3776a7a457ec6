package event

// Data bag bounds, as Relay's trimming: deep or huge user data is cut, not
// rejected, so the event itself is kept.
const (
	maxBagDepth  = 8
	maxBagString = 16 << 10
	maxBagItems  = 500
)

// trim bounds the free-form parts of an event.
func trim(m map[string]any) {
	for k, v := range m {
		m[k] = trimValue(v, 0)
	}
}

func trimValue(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if depth >= maxBagDepth {
			return "[object]"
		}
		n := 0
		for k, val := range x {
			if n >= maxBagItems {
				delete(x, k)
				continue
			}
			n++
			x[k] = trimValue(val, depth+1)
		}
		return x
	case []any:
		if depth >= maxBagDepth {
			return "[list]"
		}
		if len(x) > maxBagItems {
			x = x[:maxBagItems]
		}
		for i, item := range x {
			x[i] = trimValue(item, depth+1)
		}
		return x
	case string:
		if len(x) > maxBagString {
			return truncate(x, maxBagString)
		}
	}
	return v
}
