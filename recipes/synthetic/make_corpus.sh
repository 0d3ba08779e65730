#!/usr/bin/env bash
# Builds a small unpaired multi-speaker corpus from Debian's synthetic voices: 4 flite voices
# and 6 espeak-ng voice variants, each reading different sentences (so nothing is parallel),
# written as OUT/<voice>/<nn>.wav, 16 kHz mono 16-bit. Deterministic: the same OUT every time.
#
#   recipes/synthetic/make_corpus.sh OUT [PER_VOICE]     (default 8 sentences per voice)
#
# Needs flite, espeak-ng and sox (apt-get install flite espeak-ng sox).
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
  ""|-*) echo "usage: $0 OUT [PER_VOICE]" >&2; exit 2 ;;
esac
out=$1 per=${2:-8}
for tool in flite espeak-ng sox; do
  command -v "$tool" >/dev/null || { echo "make_corpus: $tool not installed (apt-get install $tool)" >&2; exit 1; }
done

# Sentences written for this recipe (no third-party text). Voice v reads sentences
# v*per .. v*per+per-1, wrapping around the list, so no two voices share a sentence while
# voices * per <= the number of sentences.
sentences=(
  "The kettle whistled while the rain tapped on the kitchen window."
  "A narrow bridge crossed the river just below the old mill."
  "Please bring the blue folder when you come to the meeting."
  "Seven small boats drifted slowly toward the harbour lights."
  "She painted the fence green and left the gate open to dry."
  "Our train was late because of snow on the northern line."
  "The museum opens at nine and closes early on Sundays."
  "He found a silver key under the loose stone by the door."
  "Bright yellow flowers grew along the edge of the field."
  "The children counted the stars until they fell asleep."
  "Fresh bread from the market smells better than any cake."
  "Turn left at the bakery and walk past the fountain."
  "The orchestra tuned their instruments before the concert."
  "A gentle wind carried the kite high above the hills."
  "My neighbour keeps bees in three white wooden boxes."
  "The library has a quiet room at the top of the stairs."
  "We watched the sun set behind the distant mountains."
  "The old clock in the hall stopped at a quarter past four."
  "Heavy clouds gathered over the valley in the afternoon."
  "The cat slept on the warm stones beside the garden wall."
  "Thick fog covered the road so we drove very slowly."
  "Could you read the last line of the letter once more?"
  "The farmer planted potatoes in neat rows along the slope."
  "Every morning the baker lights the oven before dawn."
  "A red balloon floated over the square and out of sight."
  "The lighthouse keeper wrote in his journal every night."
  "Waves crashed against the rocks and soaked the path."
  "Leave your muddy boots outside the front door, please."
  "The soup needs a little more salt and a pinch of pepper."
  "Thunder rolled across the plain as the storm came closer."
  "Our guide spoke softly as we entered the ancient cave."
  "The printer ran out of paper in the middle of the report."
  "Ducks paddled in circles on the surface of the pond."
  "The tailor measured the sleeves twice before cutting."
  "Snow fell all night and buried the bicycles in the yard."
  "He whistled a cheerful tune on his way to the station."
  "The gardener pruned the roses at the end of the summer."
  "Marbles rolled across the wooden floor of the attic."
  "A tall ship with white sails appeared on the horizon."
  "The recipe calls for two eggs and a cup of warm milk."
  "Owls called to each other from the dark pine trees."
  "The students listened closely to the visiting speaker."
  "Rain filled the buckets we had left beside the shed."
  "The mechanic checked the brakes and the tyre pressure."
  "Lanterns glowed along the path that led to the lake."
  "She tied a ribbon around the parcel and wrote the address."
  "The hikers rested on a flat rock near the summit."
  "Our team painted a mural on the wall of the school."
  "The baby laughed when the puppy licked her fingers."
  "Frost covered the windows on the coldest morning of the year."
  "The fisherman mended his nets while the tide came in."
  "An apple fell from the tree and rolled into the stream."
  "The choir sang three songs and the crowd asked for more."
  "Dust danced in the beam of light from the small window."
  "The postman waved as he cycled down the narrow lane."
  "We planted a young oak tree in the middle of the park."
  "The violinist bowed and the hall fell completely silent."
  "Crickets chirped in the long grass after the sun went down."
  "A pile of old letters was hidden inside the wooden chest."
  "The ferry leaves the island twice a day in the winter."
  "Sparrows gathered on the roof to wait for the crumbs."
  "The painter mixed a shade of blue for the evening sky."
  "Warm light spilled from the windows of the little inn."
  "The engineer sketched a new design for the water pump."
  "Bees hummed among the clover at the edge of the meadow."
  "The carpenter sanded the table until it was perfectly smooth."
  "Steam rose from the cups of tea on the kitchen table."
  "The explorers followed the river deep into the forest."
  "A small bell rang whenever a customer opened the door."
  "The moon rose slowly over the quiet fishing village."
  "Chalk dust covered the teacher's sleeves by noon."
  "The wind turned the pages of the book left on the bench."
  "Pebbles clicked under our feet as we walked on the beach."
  "The goat climbed onto the roof of the old stone barn."
  "Candles flickered on the long table during the feast."
  "The map showed a hidden path behind the waterfall."
  "Each autumn the leaves turn gold along the avenue."
  "The runner crossed the line and raised both arms."
  "A spider spun its web between the handles of the gate."
  "The radio played soft music late into the night."
)
# name:engine:voice[:pitch] — flite voices as they are, espeak-ng variants at several pitches.
voices=(
  "flite_kal:flite:kal" "flite_awb:flite:awb" "flite_rms:flite:rms" "flite_slt:flite:slt"
  "espeak_m1:espeak:en-us+m1:40" "espeak_m3:espeak:en-gb+m3:30" "espeak_m7:espeak:en-us+m7:55"
  "espeak_f2:espeak:en-us+f2:65" "espeak_f4:espeak:en-gb+f4:75" "espeak_f5:espeak:en-us+f5:60"
)
n_sent=${#sentences[@]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
v=0
for entry in "${voices[@]}"; do
  IFS=: read -r name engine voice pitch <<<"$entry"
  mkdir -p "$out/$name"
  for ((k = 0; k < per; k++)); do
    text=${sentences[$(((v * per + k) % n_sent))]}
    raw="$tmp/raw.wav" dst="$out/$name/$(printf '%02d' "$k").wav"
    if [ "$engine" = flite ]; then
      flite -voice "$voice" -t "$text" -o "$raw"
    else
      espeak-ng -v "$voice" -p "$pitch" -s 150 -w "$raw" "$text"
    fi
    # Same format for every voice; -D: no dither, so the output is the same every run.
    sox -D "$raw" -r 16000 -c 1 -b 16 "$dst" norm -3
  done
  v=$((v + 1))
done
echo "make_corpus: $v voices x $per sentences in $out"
