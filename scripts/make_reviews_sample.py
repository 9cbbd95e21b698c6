"""Generate streamlab's packaged Amazon-review sample: streamlab/data/reviews_sample.tsv.gz.

The public reviews TSV is gone, so the Kafka lab's data is generated: the 15 standard columns in
order, a header row, tab-separated, no quoting, never a tab or newline inside a field. Variety the
consumer should cope with: several marketplaces and categories, ISBN and ASIN product ids, a
J-shaped 1-5 star distribution, vote counts with a long tail, Y/N flags, dates 2003-2015 skewed to
recent years, `<br />` inside bodies, non-ASCII text and some very long bodies.

Deterministic (seeded): rerunning gives the same bytes (gzip mtime fixed at 0).

    python scripts/make_reviews_sample.py [--count 5000] [--seed 20151231] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import random
import string
from pathlib import Path

COLUMNS = (
    "marketplace", "customer_id", "review_id", "product_id", "product_parent", "product_title",
    "product_category", "star_rating", "helpful_votes", "total_votes", "vine", "verified_purchase",
    "review_headline", "review_body", "review_date",
)

MARKETPLACES = [("US", 90), ("UK", 4), ("DE", 3), ("JP", 1), ("FR", 2)]

# category -> (brands or authors, product nouns, features)
CATALOG = {
    "Books": (["Penguin Classics", "O'Reilly Media", "HarperCollins", "Vintage", "Scholastic"],
              ["A Novel", "The Complete Guide", "Collected Stories", "A Memoir", "Illustrated Edition", "Second Edition"],
              ["the writing", "the characters", "the plot", "the ending", "the research"]),
    "Digital_Ebook_Purchase": (["Kindle Edition"], ["Book 1 of the Series", "A Thriller", "A Romance Novel", "Short Stories"],
                               ["the pacing", "the characters", "the twist", "the editing"]),
    "Electronics": (["Anker", "Sony", "Logitech", "Samsung", "AmazonBasics", "TP-Link"],
                    ["Wireless Mouse", "USB-C Charger 30W", "Bluetooth Headphones", "HDMI Cable 6ft", "Portable SSD 1TB", "Wi-Fi Router"],
                    ["the battery life", "the build quality", "the sound", "the range", "the setup"]),
    "Wireless": (["Spigen", "OtterBox", "Belkin", "Apple"], ["Phone Case", "Screen Protector (3 pack)", "Car Mount", "Lightning Cable"],
                 ["the fit", "the grip", "the cable length", "the charging speed"]),
    "Home": (["Mainstays", "Umbra", "Rubbermaid", "Pinzon"], ["Shower Curtain", "Storage Bins, Set of 4", "Bath Towels", "Picture Frame 8x10"],
             ["the color", "the size", "the material", "the stitching"]),
    "Kitchen": (["Lodge", "OXO Good Grips", "Cuisinart", "Pyrex", "KitchenAid"],
                ["Cast Iron Skillet 10.25 inch", "Salad Spinner", "Food Processor", "Glass Storage Containers", "Stand Mixer"],
                ["the weight", "the handle", "the motor", "the lids", "cleaning it"]),
    "Toys": (["LEGO", "Melissa & Doug", "Hasbro", "Mattel"], ["Building Set", "Wooden Puzzle", "Board Game", "Action Figure"],
             ["the pieces", "the instructions", "the box", "play value"]),
    "Sports": (["Coleman", "Under Armour", "Nike", "CamelBak"], ["Yoga Mat", "Water Bottle 32oz", "Camping Tent 4-Person", "Running Socks"],
               ["the grip", "the durability", "the zipper", "the padding"]),
    "Beauty": (["Neutrogena", "CeraVe", "L'Oréal Paris", "Burt's Bees"], ["Moisturizing Cream", "Sunscreen SPF 50", "Lip Balm (4 pack)", "Shampoo"],
               ["the scent", "the texture", "my skin", "the price"]),
    "Video Games": (["Nintendo", "Sony Interactive", "Microsoft", "Ubisoft"], ["Controller", "Game of the Year Edition", "Headset", "Charging Dock"],
                    ["the graphics", "the story", "the controls", "online play"]),
    "Music": (["Columbia", "Blue Note", "Deutsche Grammophon"], ["Greatest Hits", "Live at the Fillmore", "Symphony No. 9", "Remastered"],
              ["the sound quality", "the liner notes", "the track list"]),
    "Apparel": (["Hanes", "Levi's", "Carhartt", "Columbia"], ["Crew T-Shirt (6 pack)", "Men's 505 Jeans", "Beanie", "Rain Jacket"],
                ["the fit", "the fabric", "the sizing", "the color"]),
    "Grocery": (["Kirkland", "Starbucks", "Annie's", "Nature Valley"], ["Whole Bean Coffee 2lb", "Granola Bars (24 count)", "Mac and Cheese", "Green Tea"],
                ["the taste", "the freshness", "the packaging", "the value"]),
    "Pet Products": (["KONG", "Purina", "PetSafe", "Frisco"], ["Dog Toy", "Cat Litter", "Automatic Feeder", "Dog Bed, Large"],
                     ["my dog", "my cat", "the durability", "the size"]),
}
CATEGORY_WEIGHTS = {"Books": 18, "Digital_Ebook_Purchase": 10, "Electronics": 12, "Wireless": 8, "Home": 7, "Kitchen": 8, "Toys": 6,
                    "Sports": 6, "Beauty": 6, "Video Games": 5, "Music": 4, "Apparel": 5, "Grocery": 3, "Pet Products": 4}

STARS = [(5, 57), (4, 19), (3, 8), (2, 5), (1, 11)]  # the J shape of real review data

HEADLINES = {
    5: ["Five Stars", "Love it!", "Excellent", "Great product", "Highly recommend", "Perfect", "Exactly as described", "Best purchase this year"],
    4: ["Four Stars", "Very good", "Pretty good", "Good value", "Solid, with one small issue", "Happy with it"],
    3: ["Three Stars", "OK", "It's fine", "Mixed feelings", "Average", "Does the job, barely"],
    2: ["Two Stars", "Disappointed", "Not great", "Expected more", "Meh"],
    1: ["One Star", "Terrible", "Broke after a week", "Do not buy", "Waste of money", "Returned it"],
}
OPENERS = {
    5: ["I absolutely love this.", "This exceeded my expectations.", "Bought this for my daughter and she loves it.", "Works perfectly.", "Great quality for the price."],
    4: ["Really good overall.", "Does what it says.", "Mostly happy with this purchase.", "Good, but not perfect."],
    3: ["It's okay.", "Not bad, not great.", "Decent for the price, I suppose.", "Some good points and some bad."],
    2: ["Not what I expected.", "Pretty disappointing.", "I wanted to like this.", "Quality is lacking."],
    1: ["Stopped working after two weeks.", "Complete waste of money.", "Arrived broken.", "Worst purchase I've made in a while."],
}
MIDDLES = [
    "I was impressed by {f}.", "My only complaint is {f}.", "{F} could be better.", "{F} is exactly what I hoped for.",
    "Compared to the one I had before, {f} is a big step up.", "Shipping was fast and the packaging was fine.",
    "I've been using it daily for about {n} months now.", "Customer service replied within a day.",
    "The description says one thing, but {f} tells another story.", "For {p} dollars you can't really complain.",
    "My husband thinks it's \"fine\", which from him is high praise.", "It's not the 'premium' version, but close enough.",
    "Update: still going strong after {n} months.", "Would buy again.", "I gave one to my brother as a gift.",
    "Très bien, je recommande.", "Sehr gut verarbeitet.", "Size runs small; order one up.", "Smells a bit at first; that goes away.",
]
CLOSERS = {5: ["Highly recommended!", "Five stars.", "Buy it, you won't regret it."], 4: ["Recommended.", "Four stars from me."],
           3: ["Your mileage may vary.", "It's alright."], 2: ["I'd look elsewhere.", "Can't really recommend it."],
           1: ["Avoid.", "Returning it.", "Save your money."]}


def weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs)
    return rng.choices(items, weights=weights)[0]


def clean(text: str) -> str:
    """The format has no quoting: a tab or newline inside a field would split or end the row."""
    return " ".join(text.replace("\t", " ").replace("\r", " ").replace("\n", " ").split())


def review_body(rng: random.Random, stars: int, features: list[str]) -> str:
    n_sentences = rng.choice([1, 1, 2, 3, 4, 5, 6, 8])
    if rng.random() < 0.03:
        n_sentences = rng.randint(40, 120)  # the occasional essay (some reviews run to many KB)
    parts = [rng.choice(OPENERS[stars])]
    for _ in range(n_sentences):
        f = rng.choice(features)
        parts.append(rng.choice(MIDDLES).format(f=f, F=f[0].upper() + f[1:], n=rng.randint(2, 30), p=rng.choice([9, 15, 20, 35, 60, 120])))
        if rng.random() < 0.12:
            parts.append("<br /><br />")  # real exports keep the HTML line breaks
    if rng.random() < 0.7:
        parts.append(rng.choice(CLOSERS[stars]))
    return clean(" ".join(parts))


def review_date(rng: random.Random) -> str:
    year = weighted(rng, [(y, w) for y, w in zip(range(2003, 2016), (1, 1, 2, 2, 3, 4, 5, 7, 9, 13, 18, 24, 28))])
    start = dt.date(year, 1, 1)
    end = dt.date(2015, 8, 31) if year == 2015 else dt.date(year, 12, 31)
    return (start + dt.timedelta(days=rng.randint(0, (end - start).days))).isoformat()


def make_row(rng: random.Random, products: dict) -> list[str]:
    category = weighted(rng, CATEGORY_WEIGHTS.items())
    brands, nouns, features = CATALOG[category]
    # a product is reviewed many times: reuse one sometimes, so product_id repeats like real data
    pool = products.setdefault(category, [])
    if pool and rng.random() < 0.45:
        product_id, parent, title = rng.choice(pool)
    else:
        if category == "Books" and rng.random() < 0.7:
            product_id = "".join(rng.choices(string.digits, k=9)) + rng.choice(string.digits + "X")  # ISBN-10
        else:
            product_id = "B0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))  # ASIN
        parent = str(rng.randint(100_000, 999_999_999))
        title = clean(f"{rng.choice(brands)} {rng.choice(nouns)}" + (f", {rng.choice(['Black', 'Blue', 'Red', 'Large', 'Small', '2-Pack'])}" if rng.random() < 0.3 else ""))
        pool.append((product_id, parent, title))
    stars = weighted(rng, STARS)
    total = 0 if rng.random() < 0.55 else min(int(rng.paretovariate(1.2)), 2500)
    helpful = rng.randint(0, total) if total else 0
    return [
        weighted(rng, MARKETPLACES),
        str(rng.randint(10_000, 53_096_000)),
        "R" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=rng.choice([12, 13, 13, 13]))),
        product_id,
        parent,
        title,
        category,
        str(stars),
        str(helpful),
        str(total),
        "Y" if rng.random() < 0.012 else "N",
        "Y" if rng.random() < 0.82 else "N",
        clean(rng.choice(HEADLINES[stars])),
        review_body(rng, stars, features),
        review_date(rng),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=20151231)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "streamlab" / "data" / "reviews_sample.tsv.gz")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    products: dict = {}
    lines = ["\t".join(COLUMNS)]
    for _ in range(args.count):
        row = make_row(rng, products)
        assert len(row) == 15 and not any("\t" in f or "\n" in f for f in row)
        lines.append("\t".join(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    with open(args.out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    print(f"wrote {args.count:,} reviews ({len(data):,} bytes, {args.out.stat().st_size:,} gzipped) to {args.out}")


if __name__ == "__main__":
    main()
