package livetiming

import (
	"strconv"
)

// DeletedKey is the member name with which a live-timing patch removes keys
// from an object: {"BestLapTime":{"Value":"","_deleted":["Lap"]}} drops
// BestLapTime.Lap. Seen in TimingData and DriverList recordings.
const DeletedKey = "_deleted"

// MaxListGrowth is the most elements one patch adds to a list by index
// (see [Merge]): a bound on what one feed line can make Merge allocate.
const MaxListGrowth = 64

// Merge applies one live-timing patch (a line's payload decoded into
// map[string]any, as encoding/json produces) to dst, the feed's state so far,
// in place. Start from an empty map and merge every line in order to obtain
// the full state after each line.
//
// Rules, applied per key of patch:
//   - "_deleted": a list of key names removed from dst before the other keys
//     are applied (for a list in dst, the named indices are set to nil so that
//     later indices keep their meaning). FastF1 does not honour it; e.g. its
//     driver list keeps a TeamName that the feed deleted.
//   - object patch onto object: merged recursively.
//   - object patch onto list: the feed's first line sends collections as JSON
//     lists ("Sectors":[{…},{…},{…}], "Stints":[]) and later lines address
//     their elements with decimal string keys ("Sectors":{"1":{…}}). Each key
//     that is a non-negative integer updates (recursively, for objects) the
//     element at that index, growing the list with nil elements when the index
//     is beyond its end, by at most [MaxListGrowth] elements per patch. If any
//     key is not such an index, or one lies further beyond the end, the list
//     is first converted to an object keyed "0", "1", … and merged as an
//     object (so nothing is lost, and a line of a few bytes cannot make the
//     list take gigabytes).
//   - anything else (scalars, null, lists, or an object onto a missing or
//     scalar value): the value replaces dst's value.
//
// Values taken from patch are deep-copied, so later merges never modify patch
// and patch may be reused. Merge panics if dst is nil.
func Merge(dst map[string]any, patch map[string]any) {
	if del, ok := patch[DeletedKey].([]any); ok {
		for _, k := range del {
			if ks, ok := k.(string); ok {
				delete(dst, ks)
			}
		}
	}
	for k, pv := range patch {
		if k == DeletedKey {
			continue
		}
		dst[k] = mergeValue(dst[k], pv)
	}
}

// mergeValue returns the result of applying patch value pv to current value cur.
func mergeValue(cur, pv any) any {
	pm, ok := pv.(map[string]any)
	if !ok {
		return deepCopy(pv)
	}
	switch c := cur.(type) {
	case map[string]any:
		Merge(c, pm)
		return c
	case []any:
		if l, ok := mergeList(c, pm); ok {
			return l
		}
		m := make(map[string]any, len(c)+len(pm))
		for i, v := range c {
			m[strconv.Itoa(i)] = v
		}
		Merge(m, pm)
		return m
	default:
		m := make(map[string]any, len(pm))
		Merge(m, pm)
		return m
	}
}

// mergeList applies an index-keyed object patch to list l. ok is false (and l
// untouched) when some key other than "_deleted" is not a non-negative
// decimal index below len(l)+MaxListGrowth.
func mergeList(l []any, pm map[string]any) (out []any, ok bool) {
	maxIdx := -1
	for k := range pm {
		if k == DeletedKey {
			continue
		}
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(l)+MaxListGrowth || strconv.Itoa(i) != k {
			return nil, false
		}
		maxIdx = max(maxIdx, i)
	}
	if del, ok := pm[DeletedKey].([]any); ok {
		for _, k := range del {
			if ks, ok := k.(string); ok {
				if i, err := strconv.Atoi(ks); err == nil && i >= 0 && i < len(l) {
					l[i] = nil
				}
			}
		}
	}
	for len(l) <= maxIdx {
		l = append(l, nil)
	}
	for k, pv := range pm {
		if k == DeletedKey {
			continue
		}
		i, _ := strconv.Atoi(k)
		l[i] = mergeValue(l[i], pv)
	}
	return l, true
}

// deepCopy copies the maps and slices of a decoded JSON value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	default:
		return v
	}
}
