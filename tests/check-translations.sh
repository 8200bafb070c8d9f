#!/usr/bin/env bash
# The ctest "translations" (label unit): translations/echoscope_en.ts is up to date with the
# sources and every plural text in it has its English forms.
#   tests/check-translations.sh LUPDATE SOURCE_DIR [LUPDATE OPTIONS...]
# Runs lupdate as the build's update_translations target does (the same options, over the same
# folders) on a copy of the committed .ts, then fails if the copy has a message that is not
# translated (a new %n text, or one with an empty form: type="unfinished") or if lupdate
# removed one (a text no longer in the sources), naming the texts. Fix: build the target
# update_translations, fill in the forms, commit (translations/README.md).
set -euo pipefail
lupdate=$1
source_dir=$2
shift 2
ts=$source_dir/translations/echoscope_en.ts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$ts" "$work/echoscope_en.ts"
(cd "$source_dir" && "$lupdate" "$@" -extensions cpp,h ui core metrics app \
    -ts "$work/echoscope_en.ts") >"$work/lupdate.log" 2>&1 || {
    cat "$work/lupdate.log" >&2
    echo "check-translations: lupdate failed" >&2
    exit 1
}
status=0
# The messages after lupdate, one line each: "unfinished" or "done", then the source text.
messages() {
    { tr -d '\n' <"$1"; echo; } | sed 's/<message/\n<message/g' | sed -n 's/^<message numerus="yes">.*<source>\(.*\)<\/source>.*<translation\( type="unfinished"\)\{0,1\}>.*/\2|\1/p'
}
unfinished=$(messages "$work/echoscope_en.ts" | sed -n 's/^ type="unfinished"|//p')
if [ -n "$unfinished" ]; then
    echo "check-translations: plural texts without their English forms in translations/echoscope_en.ts:" >&2
    printf '  %s\n' "$unfinished" >&2
    status=1
fi
removed=$(comm -23 <(messages "$ts" | sed 's/^[^|]*|//' | sort) \
    <(messages "$work/echoscope_en.ts" | sed 's/^[^|]*|//' | sort))
if [ -n "$removed" ]; then
    echo "check-translations: texts in translations/echoscope_en.ts that the sources no longer have:" >&2
    printf '  %s\n' "$removed" >&2
    status=1
fi
# Every "(s)" or "(es)" text in the sources is in the file (lupdate misses some calls it
# cannot parse, e.g. a translate() whose n is a qualified call; they would show "(s)").
missed=$(cd "$source_dir" && grep -rhE --include='*.cpp' --include='*.h' '"[^"]*\(e?s\)[^"]*"' \
    ui core metrics app | grep -vE '^\s*(//|#)' | grep -oE '"[^"]*\(e?s\)[^"]*"' |
    sed 's/^"//; s/"$//' | sort -u |
    while IFS= read -r text; do
        escaped=$(printf '%s' "$text" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
        grep -qF -- "$escaped" "$work/echoscope_en.ts" || printf '%s\n' "$text"
    done)
if [ -n "$missed" ]; then
    echo "check-translations: \"(s)\" or \"(es)\" texts in the sources that lupdate did not put in the file:" >&2
    printf '  %s\n' "$missed" >&2
    status=1
fi
# Every numerus message needs exactly two non-empty English forms.
empty=$(tr -d '\n' <"$work/echoscope_en.ts" | { grep -o '<numerusform></numerusform>' || true; } | wc -l)
if [ "$empty" -gt 0 ]; then
    echo "check-translations: $empty empty plural forms" >&2
    status=1
fi
count=$(messages "$work/echoscope_en.ts" | wc -l)
[ "$status" -eq 0 ] && echo "check-translations: $count plural texts, each with its English forms"
exit "$status"
