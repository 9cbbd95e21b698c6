"""Generate streamlab/data/tweets.jsonl.gz: the Twitter-style posts behind `produce tweets`.

Everything is invented here from word lists and templates (nothing is copied from any real service),
with a fixed seed so the file is reproducible. Shape: several hundred distinct hashtags whose
popularity follows a Zipf-like law (a few trend, most are rare), ~900 users with skewed activity,
mentions, five languages. `produce tweets` re-stamps `id` and `created_at` as it emits.

    .venv/bin/python scripts/make_tweets_corpus.py [--posts 6000] [--out streamlab/data/tweets.jsonl.gz]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20261123
ROOT = Path(__file__).resolve().parent.parent

TOPICS = {
    "tech": "Python Spark BigData DataEngineering Kafka AWS Cloud Serverless MachineLearning AI DeepLearning "
            "DevOps Kubernetes Docker Linux OpenSource JavaScript Rust Golang SQL Databases Analytics Streaming "
            "DataScience GenAI LLM Cybersecurity Programming CodeNewbie 100DaysOfCode WebDev Startups Tech "
            "Gadgets Smartphones Robotics IoT Blockchain Crypto Bitcoin Ethereum Fintech".split(),
    "sports": "Football Soccer NBA Basketball Tennis Cricket Baseball F1 Formula1 Marathon Running Cycling "
              "Olympics WorldCup ChampionsLeague Hockey Golf Rugby Boxing MMA Skiing Surfing Climbing Yoga "
              "Fitness GymLife Swimming Volleyball".split(),
    "food": "Foodie Coffee Pizza Sushi Ramen Tacos Vegan Baking Brunch Breakfast StreetFood Chocolate "
            "Tea Wine CraftBeer Cooking Recipe BBQ Pasta Burgers HomeCooking Dessert".split(),
    "travel": "Travel Wanderlust RoadTrip Beach Mountains Hiking Camping Paris Tokyo Lisbon Berlin NYC "
              "London Barcelona Seattle Iceland Bali Vacation Backpacking NationalParks Sunset".split(),
    "culture": "Music NewMusic Concert Jazz HipHop Indie Vinyl Movies Cinema Netflix TVShows Anime Books "
               "BookClub Reading Poetry Art Photography Design Podcast Gaming IndieGames Esports Theatre "
               "Comedy Fashion".split(),
    "life": "MondayMotivation ThrowbackThursday FridayFeeling Weekend Caturday DogsOfTwitter Pets Gardening "
            "Weather Rain Snow Heatwave Sustainability ClimateAction Science Space Astronomy Health "
            "MentalHealth Education StudentLife Parenting Productivity RemoteWork WFH Career Jobs".split(),
    "finance": "Stocks Investing Markets WallStreet Nasdaq Earnings Economy Inflation Trading Dividends "
               "PersonalFinance RealEstate".split(),
}
SUFFIXES = ["Life", "Tips", "Day", "2026", "Lovers", "Community", "News", "Goals", "Fans", "Time"]

FIRST = ("ana ben chloe dev emma finn gia hugo ivy jay kai lena maya noah omar pia quinn raj sara tom "
         "uma vic will xena yuki zoe leo mia luca nina otto rosa sam tara ezra ines").split()
WORDS = ("data cloud pixel river maple stone tiger lunar byte nova echo swift amber delta orbit cedar "
         "coral frost ember atlas jade lotus comet willow").split()

EN = [
    "Just finished {thing} and honestly {feeling}", "Anyone else think {thing} is {adj}?",
    "Day {n} of {activity}. {feeling}", "Hot take: {thing} is {adj}", "Can't believe how {adj} {thing} was today",
    "New blog post on {thing} is up, feedback welcome", "{feeling}. That's the tweet.",
    "Trying {thing} for the first time with {mention}", "Who's going to {place} this weekend?",
    "Reminder: {activity} beats doom-scrolling", "Shoutout to {mention} for the {adj} {thing}",
    "Three things I learned from {activity}: patience, coffee, more coffee", "Morning in {place} hits different",
    "If {thing} was a person it would be {adj}", "Watching the game with {mention}, {feeling}",
    "Our team shipped {thing} today, {feeling}", "Rainy {day} = {activity} day",
    "Thread on {thing} (1/{n})", "Sunset over {place} tonight was {adj}",
]
ES = ["Hoy probé {thing} y fue {adj_es}", "¿Alguien más en {place} este fin de semana?", "Día {n} de {activity_es}, vamos",
      "Gracias {mention} por la recomendación", "Qué semana más {adj_es}"]
FR = ["Première fois à {place}, c'est {adj_fr}", "Merci {mention} pour le conseil !", "Jour {n} de {activity_fr}",
      "Ce {day_fr} je teste {thing}", "Franchement, {thing} c'est {adj_fr}"]
DE = ["Heute {thing} ausprobiert, {adj_de}!", "Wer ist am Wochenende in {place}?", "Tag {n}: {activity_de}",
      "Danke {mention} für den Tipp", "Endlich {day_de}, endlich {activity_de}"]
PT = ["Primeira vez em {place} e já amei", "Obrigado {mention} pela dica", "Dia {n} de {activity_pt}",
      "Hoje testei {thing}, ficou {adj_pt}", "Alguém mais acordado para {activity_pt}?"]
LANGS = [("en", EN, 0.74), ("es", ES, 0.10), ("fr", FR, 0.06), ("de", DE, 0.05), ("pt", PT, 0.05)]

FILL = {
    "thing": "the new release,my sourdough,a 10k run,the season finale,this keyboard,the stream processor,"
             "our dashboard,a rooftop concert,the museum,a vinyl find,the night market,this podcast,my first PR,"
             "the espresso,the match,a ferry ride".split(","),
    "adj": "underrated,overrated,wild,amazing,chaotic,perfect,so good,a lot,unreal,cozy,brilliant".split(","),
    "feeling": "I'm exhausted,10/10 would do again,still smiling,not sure how I feel,best decision this year,"
               "send help,pure joy,need a nap".split(","),
    "activity": "learning Spark,marathon training,baking bread,writing every day,no sugar,reading before bed,"
                "learning Portuguese,cold showers,shipping side projects".split(","),
    "place": "Lisbon,Tokyo,the park,the coast,downtown,Berlin,Seattle,the mountains,Barcelona,the lake".split(","),
    "day": "Monday,Tuesday,Sunday,Saturday".split(","),
    "adj_es": "increíble,genial,intensa,tranquila".split(","), "activity_es": "correr,estudiar,cocinar".split(","),
    "adj_fr": "génial,incroyable,parfait,bizarre".split(","), "activity_fr": "course,lecture,cuisine".split(","),
    "day_fr": "lundi,samedi,dimanche".split(","),
    "adj_de": "großartig,genial,seltsam,perfekt".split(","), "activity_de": "Laufen,Lesen,Backen".split(","),
    "day_de": "Freitag,Samstag,Wochenende".split(","),
    "adj_pt": "incrível,ótimo,perfeito".split(","), "activity_pt": "correr,estudar,cozinhar".split(","),
}


def hashtags(rng: random.Random, n: int = 420) -> list[str]:
    base = [t for words in TOPICS.values() for t in words]
    combos = {f"{t}{s}" for t in base for s in SUFFIXES}
    extra = sorted(combos - set(base))
    rng.shuffle(extra)
    rng.shuffle(base)  # popularity rank: plain topics first (in random order), compounds in the long tail
    return base + extra[: max(0, n - len(base))]


def users(rng: random.Random, n: int = 900) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        style = rng.random()
        if style < 0.4:
            out.add(f"{rng.choice(FIRST)}_{rng.choice(WORDS)}")
        elif style < 0.75:
            out.add(f"{rng.choice(FIRST)}{rng.randint(1, 9999)}")
        else:
            out.add(f"{rng.choice(WORDS)}{rng.choice(WORDS).title()}{rng.randint(0, 99)}")
    return sorted(out)


def zipf_weights(n: int, s: float) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


def make(posts: int) -> list[dict]:
    rng = random.Random(SEED)
    tags, people = hashtags(rng), users(rng)
    rng.shuffle(people)
    tag_w, user_w = zipf_weights(len(tags), 0.95), zipf_weights(len(people), 0.8)
    langs, lang_w = [l for l in LANGS], [l[2] for l in LANGS]
    t = datetime(2026, 11, 1, 8, 0, tzinfo=timezone.utc)
    out = []
    for i in range(posts):
        code, templates, _ = rng.choices(langs, lang_w)[0]
        user = rng.choices(people, user_w)[0]
        slots = {k: rng.choice(v) for k, v in FILL.items()}
        slots["n"] = rng.randint(2, 60)
        slots["mention"] = "@" + rng.choices(people, user_w)[0]
        text = rng.choice(templates).format(**slots)
        k = rng.choices([0, 1, 1, 1, 2, 2, 3], k=1)[0]
        chosen: list[str] = []
        while len(chosen) < k:
            tag = rng.choices(tags, tag_w)[0]
            if tag not in chosen:
                chosen.append(tag)
        if chosen:
            text += " " + " ".join("#" + c for c in chosen)
        t += timedelta(seconds=rng.expovariate(1 / 7))
        out.append({"id": str(1860000000000000000 + i * 4096 + rng.randint(0, 4095)), "user": user, "text": text,
                    "created_at": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z", "lang": code})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="Generate the tweets corpus.")
    ap.add_argument("--posts", type=int, default=6000)
    ap.add_argument("--out", default=str(ROOT / "streamlab" / "data" / "tweets.jsonl.gz"))
    args = ap.parse_args()
    posts = make(args.posts)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts).encode()
    with open(out, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(body)  # mtime=0: the same input gives the same bytes
    distinct = {w for p in posts for w in p["text"].split() if w.startswith("#")}
    print(f"{out}: {len(posts):,} posts, {len(distinct)} distinct hashtags, {out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
