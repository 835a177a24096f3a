//! Redis' glob-style pattern matching: a port of `stringmatchlen` from Redis 7.0.15's
//! `src/util.c`, as used by KEYS, SCAN/HSCAN/SSCAN/ZSCAN MATCH, CONFIG GET and PSUBSCRIBE.
//!
//! The port keeps the C code's exact behaviour, quirks included, since clients can observe
//! every one of them:
//!
//! * `*` matches any run of bytes, `?` any single byte, `\x` the byte `x` literally.
//! * `[abc]`, `[^abc]` and ranges `[a-z]`; a reversed range `[z-a]` is swapped. Range bounds
//!   are compared as C `char`s, signed on x86-64 where the reference server runs, so bytes
//!   `0x80..=0xff` sort *below* ASCII: `[a-\xff]` is the range `-1..=97`, which matches
//!   `A` but not `b`.
//! * Inside brackets `\x` is a literal `x`, compared case-sensitively even in nocase mode.
//! * An unterminated `[` takes the rest of the pattern as its set: `[ab` matches `a`, and
//!   `[^` matches any single byte. `[a-]` is the range `a`..`]`, still unterminated.
//! * A trailing lone `\` matches a literal `\`.
//! * A pattern never matches an empty subject unless the pattern is empty too: the C loop
//!   runs only while both are non-empty, so `*` does not match `""`. (KEYS and SCAN skip
//!   matching for the pattern `*` alone, which is what [`is_match_all`] is for.)
//! * `nocase` folds ASCII `A-Z` only (Redis leaves `LC_CTYPE` as "C").
//!
//! Two guards in the C code bound the work on hostile patterns: `skipLongerMatches` (the
//! fix for CVE-2022-36021) stops the exponential backtracking of `a*a*a*...b`, and a limit
//! of 1000 nested `*` (CVE-2024-31228, in Debian's 7.0.15 build; checked against it) makes
//! deeper patterns report "no match".
//!
//! With `skipLongerMatches`, only the innermost `*` can ever resume its loop: a call that
//! reached a `*` returns either a match or a failure that every caller passes straight up.
//! So the recursion is replaced here by one resumable star, which gives the same answers
//! (a test checks against a line-by-line recursive port) on no stack at all. What is left
//! is Redis' own worst case, O(pattern length × subject length), for example one `*`
//! followed by a long literal.

/// Deepest `*` nesting before a match gives up and reports "no match", as in Redis.
const MAX_NESTING: u32 = 1000;

/// Redis' glob match (util.c stringmatchlen).
#[must_use]
pub fn glob_match(pattern: &[u8], subject: &[u8], nocase: bool) -> bool {
    let (pat, sub) = (pattern, subject);
    // Where the C code would be: `p` and `s` index the unconsumed pattern and subject.
    let (mut p, mut s) = (0, 0);
    // Nesting of the current C call: how many `*` were entered on the way here.
    let mut nesting = 0;
    // The innermost `*` loop: where the rest of the pattern after it starts, and the
    // subject position its current try started at.
    let mut star: Option<(usize, usize)> = None;

    loop {
        // One call of `stringmatchlen_impl` on `pat[p..]` and `sub[s..]`.
        let matched = loop {
            if p == pat.len() || s == sub.len() {
                break p == pat.len() && s == sub.len();
            }
            match pat[p] {
                b'*' => {
                    // Collapse a run of stars into the last one.
                    while at(pat, p + 1) == b'*' {
                        p += 1;
                    }
                    if p + 1 == pat.len() {
                        return true; // a trailing star matches the rest
                    }
                    if nesting >= MAX_NESTING {
                        // Every recursive call would give up at once, the star loop would
                        // run out, and skipLongerMatches would fail the whole match.
                        return false;
                    }
                    // "Recurse": try the rest of the pattern from here, star matching "".
                    nesting += 1;
                    p += 1;
                    star = Some((p, s));
                    continue;
                }
                b'?' => s += 1,
                b'[' => {
                    let (ok, last) = match_class(pat, p, sub[s], nocase);
                    if !ok {
                        break false;
                    }
                    p = last;
                    s += 1;
                }
                first => {
                    // `\x` is a literal `x`; a lone trailing `\` is a literal backslash.
                    let lit = if first == b'\\' && pat.len() - p >= 2 {
                        p += 1;
                        pat[p]
                    } else {
                        first
                    };
                    if !bytes_eq(lit, sub[s], nocase) {
                        break false;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == sub.len() {
                // Subject used up: only trailing stars may remain.
                while at(pat, p) == b'*' {
                    p += 1;
                }
                break p == pat.len();
            }
        };
        if matched {
            return true;
        }
        // This call failed before reaching a `*`: the innermost star loop swallows one
        // more byte and tries again. When it runs out, skipLongerMatches fails every
        // outer star too.
        match star {
            Some((after_star, tried)) if tried + 1 < sub.len() => {
                p = after_star;
                s = tried + 1;
                star = Some((p, s));
            }
            _ => return false,
        }
    }
}

/// True when `pattern` is exactly `*`, the pattern for which KEYS and SCAN skip matching
/// altogether (`allkeys` / `use_pattern` in db.c). Callers doing the same get Redis' output
/// exactly, including the empty key, which `glob_match(b"*", b"")` would reject.
#[must_use]
#[inline]
pub fn is_match_all(pattern: &[u8]) -> bool {
    pattern == b"*"
}

/// The byte at `i`, or 0 past the end: the C code reads the NUL terminator that every sds
/// string carries (for example `pattern[1]` when one byte is left), and so do we.
#[inline]
fn at(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

/// C `tolower` in the "C" locale, on a value that may be a negative (signed) `char`.
#[inline]
fn c_tolower(c: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// A byte as C's (signed) `char` widened to `int`: what range bounds are compared as.
#[inline]
fn c_char(b: u8) -> i32 {
    i32::from(i8::from_ne_bytes([b]))
}

#[inline]
fn bytes_eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// The `[` case of `stringmatchlen_impl`. `open` indexes the `[`; returns whether byte `c`
/// is accepted by the set (negation applied) and the index of the set's last byte: its
/// `]`, or the pattern's last byte when the set is unterminated.
fn match_class(pat: &[u8], open: usize, c: u8, nocase: bool) -> (bool, usize) {
    let mut p = open + 1;
    let not = at(pat, p) == b'^';
    if not {
        p += 1;
    }
    let mut matched = false;
    loop {
        let left = pat.len() - p;
        if at(pat, p) == b'\\' && left >= 2 {
            p += 1;
            // Escapes compare case-sensitively, nocase or not.
            if pat[p] == c {
                matched = true;
            }
        } else if at(pat, p) == b']' {
            break;
        } else if left == 0 {
            // Unterminated: the set's last byte is the pattern's last byte.
            p -= 1;
            break;
        } else if left >= 3 && pat[p + 1] == b'-' {
            let (mut start, mut end) = (c_char(pat[p]), c_char(pat[p + 2]));
            let mut ch = c_char(c);
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            if nocase {
                start = c_tolower(start);
                end = c_tolower(end);
                ch = c_tolower(ch);
            }
            p += 2;
            if (start..=end).contains(&ch) {
                matched = true;
            }
        } else if bytes_eq(pat[p], c, nocase) {
            matched = true;
        }
        p += 1;
    }
    (matched != not, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, subject, nocase, expected)
    const CASES: &[(&[u8], &[u8], bool, bool)] = &[
        // Literals and emptiness.
        (b"", b"", false, true),
        (b"", b"a", false, false),
        (b"a", b"", false, false),
        (b"abc", b"abc", false, true),
        (b"abc", b"abd", false, false),
        (b"abc", b"ab", false, false),
        (b"ab", b"abc", false, false),
        // `*`.
        (b"*", b"", false, false), // the C loop never runs on an empty subject
        (b"**", b"", false, false),
        (b"*", b"anything", false, true),
        (b"***", b"x", false, true),
        (b"a*", b"a", false, true),
        (b"a**", b"a", false, true),
        (b"a*", b"abc", false, true),
        (b"*c", b"abc", false, true),
        (b"*b", b"ab", false, true),
        (b"*b*", b"abc", false, true),
        (b"a*c", b"ac", false, true),
        (b"a*c", b"abbbc", false, true),
        (b"a*c", b"abbbd", false, false),
        (b"a*b*c", b"axxbyyc", false, true),
        (b"a*b*c", b"axxbyy", false, false),
        (b"*a*", b"bbb", false, false),
        (b"foo*", b"foo_a", false, true),
        (b"foo*", b"key_x", false, false),
        (b"{a}*", b"{a}x", false, true),
        (b"*{b}*", b"{b}a", false, true),
        (b"*{b}*", b"{a}x", false, false),
        (b"h*llo", b"heeeello", false, true),
        // `?`.
        (b"?", b"a", false, true),
        (b"?", b"", false, false),
        (b"?", b"ab", false, false),
        (b"h?llo", b"hello", false, true),
        (b"h?llo", b"hallo", false, true),
        (b"h?llo", b"hllo", false, false),
        (b"*?", b"a", false, true),
        (b"?*", b"", false, false),
        // Sets, negation, ranges.
        (b"h[ae]llo", b"hello", false, true),
        (b"h[ae]llo", b"hallo", false, true),
        (b"h[ae]llo", b"hillo", false, false),
        (b"h[^e]llo", b"hallo", false, true),
        (b"h[^e]llo", b"hello", false, false),
        (b"h[a-b]llo", b"hallo", false, true),
        (b"h[a-b]llo", b"hbllo", false, true),
        (b"h[a-b]llo", b"hcllo", false, false),
        (b"[a-z]", b"m", false, true),
        (b"[a-z]", b"M", false, false),
        (b"[z-a]", b"m", false, true), // reversed ranges are swapped
        (b"[z-a]", b"A", false, false),
        (b"[^a-z]", b"M", false, true),
        (b"[^a-z]", b"m", false, false),
        (b"[a-cx-z]", b"y", false, true),
        (b"[a-cx-z]", b"m", false, false),
        (b"[-a]", b"-", false, true),
        (b"[a-]", b"_", false, true), // "a-]" is the range ']'..'a', still open
        (b"[a-]", b"-", false, false),
        (b"[]]", b"]", false, false), // "[]" is an empty set, then "]" is literal
        (b"[]]", b"]]", false, false),
        (b"[]", b"a", false, false),
        (b"[^]", b"a", false, true),
        (b"[^]", b"", false, false),
        (b"[ab]*", b"bcd", false, true),
        // Escapes outside brackets.
        (b"\\*", b"*", false, true),
        (b"\\*", b"a", false, false),
        (b"\\?", b"?", false, true),
        (b"\\?", b"a", false, false),
        (b"\\[a]", b"[a]", false, true),
        (b"\\[a]", b"a", false, false),
        (b"\\a", b"a", false, true),
        (b"\\\\", b"\\", false, true),
        (b"a\\", b"a\\", false, true), // a lone trailing backslash is literal
        (b"\\", b"\\", false, true),
        (b"*\\*", b"abc*", false, true),
        (b"*\\*", b"abc", false, false),
        // Escapes inside brackets.
        (b"[\\]]", b"]", false, true),
        (b"[\\^]", b"^", false, true),
        (b"[\\-a]", b"-", false, true),
        (b"[\\-a]", b"b", false, false),
        (b"[a\\-z]", b"-", false, true),
        (b"[a\\-z]", b"m", false, false),
        (b"[\\\\]", b"\\", false, true),
        (b"[\\", b"\\", false, true), // a trailing backslash in a set is literal
        (b"[a\\", b"\\", false, true),
        // Unterminated brackets take the rest of the pattern as the set.
        (b"[", b"a", false, false),
        (b"[", b"[", false, false),
        (b"[a", b"a", false, true),
        (b"[ab", b"b", false, true),
        (b"[ab", b"c", false, false),
        (b"a[^", b"ab", false, true),
        (b"[^", b"x", false, true),
        (b"[^a", b"a", false, false),
        (b"[^a", b"b", false, true),
        (b"[a-c", b"b", false, true),
        (b"x[a", b"xa", false, true),
        (b"x[a", b"xab", false, false),
        // Bytes above 0x7f: sets compare bytes; ranges compare signed chars.
        (b"\xff", b"\xff", false, true),
        (b"[\x80\xff]", b"\xff", false, true),
        (b"[\x80-\xff]", b"\xc3", false, true),
        (b"[\x80-\xff]", b"a", false, false),
        (b"[a-\xff]", b"b", false, false),
        (b"[a-\xff]", b"A", false, true),
        (b"[a-\xff]", b"\xfe", false, false),
        (b"[a-\xff]", b"\xff", false, true),
        (b"a\0b", b"a\0b", false, true), // binary-safe
        (b"a?b", b"a\0b", false, true),
        // nocase.
        (b"HELLO", b"hello", true, true),
        (b"HELLO", b"hello", false, false),
        (b"h*O", b"HellO", true, true),
        (b"H[A-Z]LLO", b"hello", true, true),
        (b"h[a-z]llo", b"HELLO", true, true),
        (b"h[a-z]llo", b"HELLO", false, false),
        (b"[L-N]AXMEMORY", b"maxmemory", true, true),
        (b"[^M]AXMEMORY", b"maxmemory", true, false),
        (b"[M]axmemory", b"maxmemory", true, true),
        (b"[\\M]axmemory", b"maxmemory", true, false), // escapes ignore nocase
        (b"[\\m]axmemory", b"maxmemory", true, true),
        (b"\\M", b"m", true, true), // ...but escapes outside sets do not
        (b"[A-z]", b"_", true, false), // folded to 'a'..='z'
        (b"[A-z]", b"_", false, true),
        (b"\xc3", b"\xe3", true, false), // only ASCII folds
    ];

    #[test]
    fn table() {
        for &(pattern, subject, nocase, want) in CASES {
            assert_eq!(
                glob_match(pattern, subject, nocase),
                want,
                "glob_match({:?}, {:?}, nocase={nocase})",
                String::from_utf8_lossy(pattern),
                String::from_utf8_lossy(subject),
            );
        }
    }

    #[test]
    fn match_all() {
        assert!(is_match_all(b"*"));
        assert!(!is_match_all(b"**"));
        assert!(!is_match_all(b"\\*"));
        assert!(!is_match_all(b""));
        assert!(!is_match_all(b"a*"));
    }

    /// keyspace.tcl "Regression for pattern matching long nested loops".
    #[test]
    fn nested_stars_do_not_explode() {
        let subject = [b'a'; 40];
        assert!(!glob_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &subject,
            false
        ));
        let long = vec![b'a'; 100_000];
        let pattern = b"a*".repeat(50_000);
        assert!(glob_match(&pattern[..20], &long, false));
        let mut failing = b"a*".repeat(50_000);
        failing.push(b'b');
        assert!(!glob_match(&failing, &long, false));
    }

    /// The nesting limit: 1000 nested stars still match, 1001 give up (checked against
    /// redis-server 7.0.15 with KEYS).
    #[test]
    fn nesting_limit() {
        for (k, want) in [(999, true), (1000, true), (1001, false), (1002, false)] {
            let pattern = b"*a".repeat(k);
            let subject = vec![b'a'; k];
            assert_eq!(glob_match(&pattern, &subject, false), want, "k={k}");
        }
    }

    /// keyspace.tcl "Regression for pattern matching very long nested loops" and friends:
    /// these must neither overflow the stack nor take long.
    #[test]
    fn hostile_patterns_are_fast() {
        let started = std::time::Instant::now();
        let subject = vec![b'a'; 100_000];
        // A run of stars collapses without recursing.
        assert!(glob_match(&vec![b'*'; 100_000], &subject, false));
        assert!(glob_match(&vec![b'*'; 100_000], b"x", false));
        let mut stars_then_b = vec![b'*'; 100_000];
        stars_then_b.push(b'b');
        assert!(!glob_match(&stars_then_b, &subject, false));
        // Deep nesting: the limit gives up.
        assert!(!glob_match(
            &b"*?".repeat(50_000),
            &subject[..50_000],
            false
        ));
        assert!(!glob_match(&b"*a".repeat(100_000), &subject, false));
        assert!(!glob_match(&b"a*".repeat(100_000), &subject, true));
        assert!(!glob_match(&b"*[a]".repeat(30_000), &subject, false));
        // Lots of unterminated or odd brackets.
        assert!(!glob_match(&b"[".repeat(100_000), &subject, false));
        // One star, then one unterminated set spanning the rest: the last `a` is in it.
        assert!(glob_match(&b"*[^b".repeat(30_000), &subject[..100], false));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }

    /// No recursion: even the deepest pattern Redis accepts runs on a tiny stack.
    #[test]
    fn deep_patterns_need_no_stack() {
        let handle = std::thread::Builder::new()
            .stack_size(32 * 1024)
            .spawn(|| {
                let subject = vec![b'a'; 5_000];
                let deepest = glob_match(&b"*a".repeat(1000), &subject[..1000], false);
                let too_deep = glob_match(&b"*a".repeat(5_000), &subject, false);
                (deepest, too_deep)
            })
            .unwrap();
        assert_eq!(handle.join().unwrap(), (true, false));
    }

    /// A line-by-line recursive port of Redis' `stringmatchlen_impl`, to check that the
    /// single resumable star of [`glob_match`] gives the same answers.
    fn reference(pat: &[u8], sub: &[u8], nocase: bool, skip: &mut bool, nesting: u32) -> bool {
        if nesting > MAX_NESTING {
            return false;
        }
        let (mut p, mut s) = (0, 0);
        while p < pat.len() && s < sub.len() {
            match pat[p] {
                b'*' => {
                    while at(pat, p + 1) == b'*' {
                        p += 1;
                    }
                    if pat.len() - p == 1 {
                        return true;
                    }
                    while s < sub.len() {
                        if reference(&pat[p + 1..], &sub[s..], nocase, skip, nesting + 1) {
                            return true;
                        }
                        if *skip {
                            return false;
                        }
                        s += 1;
                    }
                    *skip = true;
                    return false;
                }
                b'?' => s += 1,
                b'[' => {
                    p += 1;
                    let not = at(pat, p) == b'^';
                    if not {
                        p += 1;
                    }
                    let mut matched = false;
                    loop {
                        if at(pat, p) == b'\\' && pat.len() - p >= 2 {
                            p += 1;
                            matched |= pat[p] == sub[s];
                        } else if at(pat, p) == b']' {
                            break;
                        } else if pat.len() == p {
                            p -= 1;
                            break;
                        } else if pat.len() - p >= 3 && pat[p + 1] == b'-' {
                            let mut start = c_char(pat[p]);
                            let mut end = c_char(pat[p + 2]);
                            let mut c = c_char(sub[s]);
                            if start > end {
                                std::mem::swap(&mut start, &mut end);
                            }
                            if nocase {
                                start = c_tolower(start);
                                end = c_tolower(end);
                                c = c_tolower(c);
                            }
                            p += 2;
                            matched |= c >= start && c <= end;
                        } else if nocase {
                            matched |= pat[p].eq_ignore_ascii_case(&sub[s]);
                        } else {
                            matched |= pat[p] == sub[s];
                        }
                        p += 1;
                    }
                    if not {
                        matched = !matched;
                    }
                    if !matched {
                        return false;
                    }
                    s += 1;
                }
                other => {
                    if other == b'\\' && pat.len() - p >= 2 {
                        p += 1;
                    }
                    let equal = if nocase {
                        pat[p].eq_ignore_ascii_case(&sub[s])
                    } else {
                        pat[p] == sub[s]
                    };
                    if !equal {
                        return false;
                    }
                    s += 1;
                }
            }
            p += 1;
            if s == sub.len() {
                while at(pat, p) == b'*' {
                    p += 1;
                }
                break;
            }
        }
        p == pat.len() && s == sub.len()
    }

    /// A small deterministic xorshift generator: no dev-dependency needed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % n as u64).unwrap()
        }

        fn string(&mut self, alphabet: &[u8], max_len: usize) -> Vec<u8> {
            let len = self.below(max_len + 1);
            (0..len)
                .map(|_| alphabet[self.below(alphabet.len())])
                .collect()
        }
    }

    #[test]
    fn same_answers_as_the_recursive_port() {
        const PATTERN_BYTES: &[u8] = b"**??[[]]^^--\\\\aabAB\xff\x80z";
        const SUBJECT_BYTES: &[u8] = b"aabbAB-]^\\*?[z\xff\x80";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut matches = 0;
        for _ in 0..200_000 {
            let pattern = rng.string(PATTERN_BYTES, 10);
            let subject = rng.string(SUBJECT_BYTES, 8);
            for nocase in [false, true] {
                let want = reference(&pattern, &subject, nocase, &mut false, 0);
                matches += usize::from(want);
                assert_eq!(
                    glob_match(&pattern, &subject, nocase),
                    want,
                    "glob_match({:?}, {:?}, nocase={nocase})",
                    String::from_utf8_lossy(&pattern),
                    String::from_utf8_lossy(&subject),
                );
            }
        }
        // The sample must exercise both answers, not just "no".
        assert!(matches > 10_000, "only {matches} matches");
    }

    #[test]
    fn same_answers_as_the_recursive_port_near_the_nesting_limit() {
        // The recursive port needs a deep stack for these.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(|| {
                let mut rng = Rng(42);
                let mut outcomes = [0; 2];
                for _ in 0..200 {
                    let stars = 990 + rng.below(20);
                    let mut pattern = Vec::new();
                    for _ in 0..stars {
                        pattern.push(b'*');
                        let pieces: [&[u8]; 6] = [b"", b"a", b"?", b"[ab]", b"b", b"[^a]?"];
                        pattern.extend_from_slice(pieces[rng.below(pieces.len())]);
                    }
                    pattern.extend(rng.string(b"a*", 2));
                    let subject = rng.string(b"aaaaaaaaab", 5000);
                    let want = reference(&pattern, &subject, false, &mut false, 0);
                    outcomes[usize::from(want)] += 1;
                    assert_eq!(glob_match(&pattern, &subject, false), want, "{stars} stars");
                }
                // Both answers must come up, or the comparison proves little.
                assert!(outcomes.iter().all(|&n| n > 20), "{outcomes:?}");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
