#!/bin/sh
# tests/mpi/paper.sh: the paper's generator and sources, without LaTeX (make check runs it; the
# PDF itself is built by scripts/test.sh's paper stage).
#   - paper/generate.py transcribes experiments/results/ into LaTeX macros and tables;
#   - every macro adkit.tex and the generated tables use is defined (by the generated file, by
#     adkit.tex itself, or is one of the LaTeX commands listed below), and the check can fail;
#   - no decimal number is typed into adkit.tex; every figure is a result file that exists;
#     every citation is in adkit.bib;
#   - a needed result file, row or field that is missing or not a number makes the generator exit
#     non-zero with a message naming it, and write nothing; the newest dated file of a kind wins.
. "$ADK_SRCDIR/tests/mpi/lib.sh"

PY=$ADK_PYTHON3
[ "$PY" = none ] && PY=/usr/bin/python3
if ! [ -x "$PY" ]; then
    echo "1..0 # SKIP no python3"
    exit 0
fi
PAPER=$ADK_SRCDIR/paper
RES=$ADK_SRCDIR/experiments/results
GEN="$PY $PAPER/generate.py --paper-dir $PAPER"

# LaTeX's own commands and those of the packages adkit.tex loads: anything else it uses must be
# defined by the generated results.tex or by adkit.tex itself.
LATEX_CMDS='@@input approx arraybackslash author begin bibliography bibliographystyle bottomrule
caption cdot centering cite cmidrule date documentclass else emph end fi footnotesize geq hfill
includegraphics input item lVert label leq makeatletter makeatother maketitle midrule mu
multicolumn newcommand rVert raggedright ref section setlength sigma small subsection tabcolsep
textbf textsf texttt textwidth times title toprule usepackage varepsilon ensuremath
renewcommand setcounter topfraction bottomfraction textfraction floatpagefraction'

# undefined_macros OUTDIR TEX: the control sequences TEX and OUTDIR's tables use that nothing
# defines (comments stripped), one per line
undefined_macros() {
    for f in "$2" "$1"/tab-*.tex; do
        sed -e 's/^%.*$//' -e 's/\([^\\]\)%.*$/\1/' "$f"
    done | grep -o '\\[A-Za-z@][A-Za-z@]*' | sed 's/^\\//' | sort -u >"$WORK/used"
    {
        sed -n 's/^\\newcommand{\\\([A-Za-z]*\)}.*/\1/p' "$1/results.tex" "$2"
        sed -n 's/^\\newif\\if\([A-Za-z]*\)$/if\1 \1true \1false/p' "$1/results.tex" | tr ' ' '\n'
        echo "$LATEX_CMDS" | tr ' ' '\n'
    } | grep -v '^$' | sort -u >"$WORK/defined"
    comm -23 "$WORK/used" "$WORK/defined"
}

# 1. the generator on the recorded results
OUT=$WORK/gen
if $GEN --results "$RES" --out "$OUT" >"$WORK/gen.out" 2>&1 && [ -s "$OUT/results.tex" ]; then
    ok "generate.py transcribes experiments/results/ ($(sed -n 's/.*: \([0-9]* macros\).*/\1/p' "$WORK/gen.out"))"
else
    notok "generate.py transcribes experiments/results/"
    comment_file "$WORK/gen.out"
fi

# 2. every macro used is defined
undef=$(undefined_macros "$OUT" "$PAPER/adkit.tex")
if [ -z "$undef" ]; then
    ok "every macro in adkit.tex and the generated tables is defined"
else
    notok "macros used but not defined: $(echo $undef)"
fi
dups=$(sed -n 's/^\\newcommand{\\\([A-Za-z]*\)}.*/\1/p' "$OUT/results.tex" "$PAPER/adkit.tex" |
    sort | uniq -d)
if [ -z "$dups" ]; then
    ok "no macro defined twice"
else
    notok "macros defined twice: $(echo $dups)"
fi
# ... and the check fails on a macro nothing defines (in the text and in a table)
sed 's/^\\section{Introduction}/\\section{Introduction} \\NoSuchResultMacro/' \
    "$PAPER/adkit.tex" >"$WORK/bad.tex"
cp -r "$OUT" "$WORK/badgen"
echo 'x & \AlsoNotDefined \\' >>"$WORK/badgen/tab-lloyd.tex"
undef=" $(undefined_macros "$WORK/badgen" "$WORK/bad.tex" | tr '\n' ' ')"
if echo "$undef" | grep -q ' AlsoNotDefined ' && echo "$undef" | grep -q ' NoSuchResultMacro '; then
    ok "the macro check names undefined macros (text and tables)"
else
    notok "the macro check names undefined macros: got '$undef'"
fi

# 3. no result typed into the text: no decimal number outside comments, package options, float
# placement parameters and lengths (0.42\textwidth, 1.7cm)
typed_numbers() {
    sed -e 's/^%.*$//' -e 's/\([^\\]\)%.*$/\1/' -e 's/^\\usepackage.*$//' \
        -e 's/^\\renewcommand{\\[a-z]*fraction}.*$//' \
        -e 's/[0-9][0-9.]*\(cm\|mm\|pt\|em\|ex\|\\textwidth\|\\linewidth\)//g' "$1" |
        grep -n '[0-9]\.[0-9]'
}
typed=$(typed_numbers "$PAPER/adkit.tex")
if [ -z "$typed" ]; then
    ok "no decimal number typed into adkit.tex"
else
    notok "decimal numbers typed into adkit.tex"
    printf '%s\n' "$typed" | sed 's/^/# /'
fi
# ... and the check finds one
sed 's/^\\section{Introduction}/\\section{Introduction} a speed-up of 3.5/' "$PAPER/adkit.tex" \
    >"$WORK/typed.tex"
if [ -n "$(typed_numbers "$WORK/typed.tex")" ]; then
    ok "the typed-number check finds a typed number"
else
    notok "the typed-number check finds a typed number"
fi

# 4. figures: every \includegraphics takes a generated macro naming an existing result file
bad=""
for m in $(grep -o '\\includegraphics\[[^]]*\]{[^}]*}' "$PAPER/adkit.tex" | sed 's/.*{\\\(.*\)}/\1/'); do
    p=$(sed -n "s/^\\\\newcommand{\\\\$m}{\\(.*\\)}\$/\\1/p" "$OUT/results.tex")
    case "$p" in
    ../experiments/results/*.png) [ -f "$PAPER/$p" ] || bad="$bad $m=$p(missing)" ;;
    *) bad="$bad $m=${p:-undefined}" ;;
    esac
done
nfig=$(grep -c '\\includegraphics' "$PAPER/adkit.tex")
if [ -z "$bad" ] && [ "$nfig" -gt 0 ]; then
    ok "$nfig figures, each a PNG under experiments/results/ named by a generated macro"
else
    notok "figures:$bad (found $nfig)"
fi

# 5. citations: every key is in adkit.bib
missing=""
for k in $(grep -o '\\cite{[^}]*}' "$PAPER/adkit.tex" | sed 's/\\cite{\(.*\)}/\1/' | tr ',' '\n' |
    sort -u); do
    grep -q "^@[a-z]*{$k," "$PAPER/adkit.bib" || missing="$missing $k"
done
if [ -z "$missing" ]; then
    ok "every citation is in adkit.bib"
else
    notok "citations missing from adkit.bib:$missing"
fi

# 6. missing results: the generator fails, names what is missing, writes nothing
# expect_gen_fail DESC PATTERN: run on $WORK/res into an output folder holding a sentinel file
expect_gen_fail() {
    rm -rf "$WORK/out-f" && mkdir -p "$WORK/out-f" && echo sentinel >"$WORK/out-f/results.tex"
    $GEN --results "$WORK/res" --out "$WORK/out-f" >"$WORK/f.out" 2>"$WORK/f.err"
    rc=$?
    why=""
    if [ "$rc" = 0 ]; then
        why="exit 0"
    elif ! grep -q -- "$2" "$WORK/f.err"; then
        why="message does not name '$2'"
    elif [ "$(cat "$WORK/out-f/results.tex")" != sentinel ] || [ "$(ls -A "$WORK/out-f" | wc -l)" != 1 ]; then
        why="output written"
    fi
    if [ -z "$why" ]; then
        ok "$1: exit $rc, names '$2', nothing written"
    else
        notok "$1: $why"
        comment_file "$WORK/f.err"
    fi
}
fresh() {
    rm -rf "$WORK/res" && cp -r "$RES" "$WORK/res"
}
newest() {
    ls "$WORK/res/$1"-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].$2 | sort | tail -n 1
}

fresh
rm "$WORK/res/digits/REPORT.md"
expect_gen_fail "digits report removed" "digits/REPORT.md: file missing"
fresh
rm "$WORK/res/digits/tsne_circles.png"
expect_gen_fail "a digits figure removed" "digits/tsne_circles.png: file missing"
fresh
rm "$WORK/res"/bench-lloyd-*.md
expect_gen_fail "every bench-lloyd result removed" "bench-lloyd-YYYY-MM-DD.md: no result file"
fresh
rm "$WORK/res"/scaling/model-*.md
expect_gen_fail "the scaling model removed" "scaling/model-YYYY-MM-DD.md: no result file"
fresh
f=$(newest scaling/strong csv)
rm "${f%.csv}.png"
expect_gen_fail "the strong-scaling figure removed" "$(basename "${f%.csv}.png"): figure missing"
fresh
rm "$WORK/res"/bench-kmeans-fit-*.md
expect_gen_fail "every bench-kmeans-fit result removed" "bench-kmeans-fit-YYYY-MM-DD.md"
fresh
f=$(newest bench-lloyd md)
sed -i '/^| adkit, avx2 kernel/d' "$f"
expect_gen_fail "a row removed" "$(basename "$f").*no row 'adkit, avx2 kernel'"
fresh
f=$(newest bench-lloyd md)
sed -i 's/^\(| scikit-learn KMeans(lloyd) | \)[0-9.]*/\1n\/a/' "$f"
expect_gen_fail "a field not a number" "$(basename "$f").*field 's / iteration': 'n/a' is not a number"
fresh
f=$(newest bench-tsne md)
sed -i 's/^- KL ratio adkit \/ scikit-learn: /- KL ratio: /' "$f"
expect_gen_fail "a sentence the paper quotes changed" "$(basename "$f"): digits KL ratio"

# 7. the newest dated file of a kind is the one read
fresh
f=$(newest bench-lloyd md)
sed 's/^\(| adkit, avx512 kernel[^|]*| \)[0-9.]*/\10.1111/' "$f" >"$WORK/res/bench-lloyd-2999-01-01.md"
if $GEN --results "$WORK/res" --out "$WORK/out-n" >"$WORK/n.out" 2>&1 &&
    grep -qx '\\newcommand{\\LloydAvxSec}{0.1111}' "$WORK/out-n/results.tex" &&
    grep -qx '\\newcommand{\\LloydDate}{2999-01-01}' "$WORK/out-n/results.tex"; then
    ok "the newest bench-lloyd file is read"
else
    notok "the newest bench-lloyd file is read"
    comment_file "$WORK/n.out"
fi

finish
