"""Static material of the demo marketplace: shop names, products, people, texts.

Plain data, no logic: ``world`` and ``planner`` draw from it with a seeded ``random.Random``.
"""

from shops.models import Carrier, Category, Region

C = Category

# name, main category, currency, registration region, enterprise certified, store level, profile.
# The first four are the demo login's shops (healthy, late shipper, new, high canceller).
SHOPS: list[tuple[str, str, str, str, bool, int, str]] = [
    (
        "Dongguan Lumina Electronics",
        C.CONSUMER_ELECTRONICS,
        "USD",
        Region.MAINLAND_CN,
        True,
        4,
        "healthy",
    ),
    ("Yiwu HomeNest", C.HOME_GARDEN, "USD", Region.MAINLAND_CN, True, 3, "late"),
    ("Hangzhou Silk & Thread", C.WOMENS_FASHION, "USD", Region.MAINLAND_CN, True, 1, "new"),
    ("Guangzhou Velvet Beauty", C.BEAUTY, "USD", Region.MAINLAND_CN, False, 2, "canceller"),
    ("Dongguan StrideGear Sports", C.SPORTS, "USD", Region.MAINLAND_CN, True, 3, "healthy"),
    ("Ningbo AutoPro Parts", C.AUTO_MOTO, "USD", Region.MAINLAND_CN, True, 4, "healthy"),
    ("Shantou FunBrick Toys", C.TOYS, "CNY", Region.MAINLAND_CN, True, 2, "late"),
    ("Orient Pearl Jewels HK", C.JEWELRY, "USD", Region.HONG_KONG, True, 5, "healthy"),
    (
        "Shenzhen VoltCase Accessories",
        C.DIGITAL_ACCESSORIES,
        "USD",
        Region.MAINLAND_CN,
        True,
        5,
        "healthy",
    ),
    ("Foshan Casa Lighting", C.HOME_GARDEN, "EUR", Region.MAINLAND_CN, False, 2, "canceller"),
    ("Quanzhou Urban Threads", C.MENS_FASHION, "USD", Region.MAINLAND_CN, True, 3, "healthy"),
    ("Xiamen BlueWave Outdoor", C.SPORTS, "USD", Region.MAINLAND_CN, True, 2, "new"),
    ("Wenzhou Leather Craft", C.MENS_FASHION, "CNY", Region.MAINLAND_CN, True, 3, "healthy"),
    ("Berlin Gadget Outlet", C.CONSUMER_ELECTRONICS, "EUR", Region.OVERSEAS, False, 2, "healthy"),
    ("Suzhou Petal Bridal", C.WOMENS_FASHION, "USD", Region.MAINLAND_CN, True, 4, "late"),
    (
        "Shenzhen PixelWing Drones",
        C.CONSUMER_ELECTRONICS,
        "USD",
        Region.MAINLAND_CN,
        True,
        3,
        "healthy",
    ),
    ("Jinhua KitchenJoy", C.HOME_GARDEN, "USD", Region.MAINLAND_CN, False, 1, "new"),
    ("Guangzhou Glow Cosmetics", C.BEAUTY, "USD", Region.MAINLAND_CN, True, 4, "healthy"),
    ("Tianjin MotoMax", C.AUTO_MOTO, "USD", Region.MAINLAND_CN, True, 2, "healthy"),
    ("Yiwu Party Planet", C.TOYS, "USD", Region.MAINLAND_CN, False, 1, "canceller"),
]
# Shops past the list above get generated names: city + brand + trade.
CITIES = [
    "Shenzhen",
    "Yiwu",
    "Guangzhou",
    "Hangzhou",
    "Dongguan",
    "Ningbo",
    "Xiamen",
    "Suzhou",
    "Foshan",
    "Quanzhou",
    "Wenzhou",
    "Shantou",
    "Jinhua",
    "Tianjin",
    "Qingdao",
    "Chengdu",
    "Wuhan",
    "Putian",
]
BRANDS = [
    "Aurora",
    "Nimbus",
    "Zenith",
    "Maple",
    "Coral",
    "Falcon",
    "Lotus",
    "Jade",
    "Comet",
    "Harbor",
    "Summit",
    "Willow",
    "Ember",
    "Orbit",
    "Pioneer",
    "Breeze",
    "Crystal",
    "Sparrow",
    "Atlas",
    "Luna",
]
TRADES = {
    C.HOME_GARDEN: "Home",
    C.AUTO_MOTO: "Auto Parts",
    C.DIGITAL_ACCESSORIES: "Accessories",
    C.CONSUMER_ELECTRONICS: "Electronics",
    C.WOMENS_FASHION: "Fashion",
    C.MENS_FASHION: "Menswear",
    C.BEAUTY: "Beauty",
    C.TOYS: "Toys",
    C.SPORTS: "Outdoor",
    C.JEWELRY: "Jewelry",
}
PROFILE_CYCLE = ["healthy", "healthy", "late", "healthy", "canceller", "new", "healthy", "late"]
ORIGINS = {city: f"{city}, CN" for city in CITIES} | {
    "Berlin": "Berlin, DE",
    "Orient": "Hong Kong, HK",
}

# Product titles per category, USD price range in cents, and variant names.
PRODUCTS: dict[str, tuple[list[str], tuple[int, int], list[str]]] = {
    C.CONSUMER_ELECTRONICS: (
        [
            "Wireless Earbuds",
            "Bluetooth 5.3 Speaker",
            "Smart Watch with Heart Rate Monitor",
            "1080p Mini Projector",
            "4K Action Camera",
            "Portable Power Station 300W",
            "Noise Cancelling Headphones",
            "Dual Dash Cam",
            "Wi-Fi Home Security Camera",
            "6 inch E-Book Reader",
            "Mechanical Gaming Keyboard",
            "Wireless Gaming Mouse",
            "Digital Voice Recorder",
            "Retro Handheld Game Console",
            "Smart LED Desk Lamp",
        ],
        (1500, 12900),
        ["Black", "White", "Midnight Blue", "Space Gray"],
    ),
    C.DIGITAL_ACCESSORIES: (
        [
            "65W GaN USB-C Charger",
            "Magnetic Phone Case",
            "Tempered Glass Screen Protector",
            "Braided USB-C Cable",
            "15W Wireless Charging Pad",
            "Car Phone Holder",
            "Aluminium Laptop Stand",
            "7-in-1 USB-C Hub",
            "20000mAh Power Bank",
            "Silicone Watch Band",
            "Bluetooth Selfie Stick Tripod",
            "Tablet Sleeve 11 inch",
            "Earbuds Case Cover",
        ],
        (199, 3900),
        ["Black", "White", "Pink", "Sierra Blue", "1 m", "2 m"],
    ),
    C.HOME_GARDEN: (
        [
            "Solar Garden Lights (8 pack)",
            "Bamboo Storage Baskets",
            "LED Strip Lights 10 m",
            "Silicone Kitchen Utensil Set",
            "Thermal Blackout Curtains",
            "Memory Foam Pillow",
            "Self-Watering Planter",
            "Magnetic Spice Rack",
            "Velvet Cushion Cover",
            "Microfiber Cleaning Cloths",
            "Minimalist Wall Clock",
            "Electric Milk Frother",
            "Vacuum Storage Bags",
            "Ceramic Plant Pot Set",
        ],
        (299, 4900),
        ["Small", "Medium", "Large", "Beige", "Grey", "Sage Green"],
    ),
    C.AUTO_MOTO: (
        [
            "Car Seat Gap Filler",
            "OBD2 Bluetooth Scanner",
            "Motorcycle Phone Mount",
            "LED Headlight Bulbs H4",
            "Cordless Car Vacuum",
            "Digital Tyre Pressure Gauge",
            "Leather Steering Wheel Cover",
            "Motorcycle Riding Gloves",
            "Car Trunk Organizer",
            "Windshield Sun Shade",
            "1200A Jump Starter",
            "Anti-Slip Dash Mat",
        ],
        (399, 6900),
        ["Black", "Grey", "H4", "H7", "M", "L"],
    ),
    C.WOMENS_FASHION: (
        [
            "Floral Midi Dress",
            "High Waist Wide Leg Jeans",
            "Oversized Knit Cardigan",
            "Satin Slip Skirt",
            "Linen Button-Up Shirt",
            "Pleated Maxi Skirt",
            "Puff Sleeve Blouse",
            "Ribbed Bodycon Dress",
            "Classic Trench Coat",
            "Crossbody Mini Bag",
        ],
        (899, 5900),
        ["S", "M", "L", "XL"],
    ),
    C.MENS_FASHION: (
        [
            "Slim Fit Chino Pants",
            "Cotton Polo Shirt",
            "Hooded Windbreaker",
            "Cargo Shorts",
            "Merino Crew Sweater",
            "Leather Belt with Automatic Buckle",
            "Denim Jacket",
            "Breathable Running Sneakers",
            "Oxford Shirt",
            "Wool Beanie",
        ],
        (699, 6900),
        ["S", "M", "L", "XL", "XXL"],
    ),
    C.BEAUTY: (
        [
            "Vitamin C Serum 30 ml",
            "Hyaluronic Acid Moisturizer",
            "Matte Liquid Lipstick Set",
            "Jade Facial Roller",
            "Makeup Brush Set 14 pcs",
            "Sheet Masks (10 pack)",
            "Ceramic Hair Straightener",
            "Facial Cleansing Brush",
            "Gel Nail Polish Kit",
            "Heated Eyelash Curler",
        ],
        (299, 3900),
        ["Nude", "Rose", "Coral", "Berry", "Standard"],
    ),
    C.TOYS: (
        [
            "City Building Blocks 1200 pcs",
            "RC Stunt Car",
            "Magnetic Tiles 60 pcs",
            "Plush Dinosaur 40 cm",
            "Kids Walkie Talkies",
            "Wooden Puzzle Set",
            "STEM Robot Kit",
            "Mini Drone for Kids",
            "Slime Making Kit",
            "Dollhouse Furniture Set",
        ],
        (499, 7900),
        ["Red", "Blue", "Green", "Standard"],
    ),
    C.SPORTS: (
        [
            "Non-Slip Yoga Mat 6 mm",
            "Adjustable Dumbbells",
            "Resistance Bands Set",
            "Cycling Jersey",
            "LED Camping Lantern",
            "Carbon Trekking Poles",
            "Speed Jump Rope",
            "Hydration Backpack 2 L",
            "Fishing Lure Kit",
            "Anti-Fog Swimming Goggles",
        ],
        (399, 8900),
        ["Black", "Purple", "Orange", "M", "L"],
    ),
    C.JEWELRY: (
        [
            "925 Silver Pendant Necklace",
            "Moissanite Stud Earrings",
            "Minimalist Quartz Watch",
            "Stainless Steel Cuff Bracelet",
            "Freshwater Pearl Drop Earrings",
            "Adjustable Open Ring",
            "Automatic Mechanical Watch",
            "Birthstone Charm",
            "Gold Plated Hoop Earrings",
            "Cuban Chain Necklace",
        ],
        (299, 15900),
        ["Silver", "Gold", "Rose Gold", "18 inch", "20 inch"],
    ),
}
TITLE_MODIFIERS = ["", "Upgraded", "Pro", "2025 New", "Premium", "Lite", "Classic", "Max", "Mini"]
# Prices are drawn in US cents and converted with these factors (integer arithmetic: x / 100).
CURRENCY_FACTOR_PERCENT = {"USD": 100, "EUR": 92, "CNY": 720}

THIRD_PARTY_CARRIERS = [Carrier.CAINIAO, Carrier.YANWEN, Carrier.FOURPX, Carrier.DHL, Carrier.OTHER]

# site: (weight, countries with weights, email domains with weights, review language)
SITES: dict[str, tuple[int, list[tuple[str, int]], list[tuple[str, int]], str]] = {
    "us": (
        14,
        [("US", 1)],
        [("gmail.com", 50), ("yahoo.com", 20), ("outlook.com", 15), ("icloud.com", 15)],
        "en",
    ),
    "fr": (
        14,
        [("FR", 1)],
        [
            ("orange.fr", 30),
            ("gmail.com", 30),
            ("free.fr", 15),
            ("laposte.net", 10),
            ("hotmail.fr", 10),
            ("sfr.fr", 5),
        ],
        "fr",
    ),
    "es": (
        12,
        [("ES", 1)],
        [("gmail.com", 50), ("hotmail.es", 25), ("yahoo.es", 15), ("telefonica.net", 10)],
        "es",
    ),
    "ru": (12, [("RU", 1)], [("mail.ru", 45), ("yandex.ru", 40), ("gmail.com", 15)], "ru"),
    "br": (
        10,
        [("BR", 1)],
        [("uol.com.br", 30), ("bol.com.br", 20), ("gmail.com", 40), ("hotmail.com", 10)],
        "pt",
    ),
    "de": (
        8,
        [("DE", 1)],
        [("gmx.de", 35), ("web.de", 30), ("t-online.de", 15), ("gmail.com", 20)],
        "de",
    ),
    "pl": (
        7,
        [("PL", 1)],
        [("wp.pl", 40), ("onet.pl", 25), ("o2.pl", 15), ("gmail.com", 20)],
        "pl",
    ),
    "it": (
        6,
        [("IT", 1)],
        [("libero.it", 40), ("gmail.com", 35), ("virgilio.it", 15), ("hotmail.it", 10)],
        "it",
    ),
    "kr": (5, [("KR", 1)], [("naver.com", 60), ("daum.net", 25), ("gmail.com", 15)], "ko"),
    "nl": (
        4,
        [("NL", 1)],
        [("ziggo.nl", 30), ("gmail.com", 40), ("kpnmail.nl", 15), ("hotmail.nl", 15)],
        "nl",
    ),
    "jp": (3, [("JP", 1)], [("yahoo.co.jp", 40), ("gmail.com", 40), ("docomo.ne.jp", 20)], "ja"),
    "global": (
        5,
        [("GB", 40), ("CA", 20), ("AU", 15), ("MX", 15), ("IL", 10)],
        [("gmail.com", 60), ("outlook.com", 25), ("yahoo.com", 15)],
        "en",
    ),
}
# Mobile number shapes per country: (prefix, digits after it). All E.164-possible.
PHONES = {
    "US": ("+1", 10),
    "CA": ("+1", 10),
    "FR": ("+336", 8),
    "ES": ("+346", 8),
    "RU": ("+79", 9),
    "BR": ("+55119", 8),
    "DE": ("+49151", 8),
    "PL": ("+485", 8),
    "IT": ("+393", 9),
    "KR": ("+8210", 8),
    "NL": ("+316", 8),
    "JP": ("+8190", 8),
    "GB": ("+447", 9),
    "AU": ("+614", 8),
    "MX": ("+5255", 8),
    "IL": ("+9725", 8),
}
CITIES_BY_COUNTRY = {
    "US": ["Los Angeles, US", "New York, US", "Chicago, US"],
    "CA": ["Toronto, CA", "Vancouver, CA"],
    "FR": ["Paris, FR", "Lyon, FR", "Marseille, FR"],
    "ES": ["Madrid, ES", "Barcelona, ES", "Valencia, ES"],
    "RU": ["Moscow, RU", "Saint Petersburg, RU", "Kazan, RU"],
    "BR": ["São Paulo, BR", "Rio de Janeiro, BR"],
    "DE": ["Berlin, DE", "Hamburg, DE", "Munich, DE"],
    "PL": ["Warsaw, PL", "Kraków, PL"],
    "IT": ["Milan, IT", "Rome, IT"],
    "KR": ["Seoul, KR", "Busan, KR"],
    "NL": ["Amsterdam, NL", "Utrecht, NL"],
    "JP": ["Tokyo, JP", "Osaka, JP"],
    "GB": ["London, GB", "Manchester, GB"],
    "AU": ["Sydney, AU"],
    "MX": ["Mexico City, MX"],
    "IL": ["Tel Aviv, IL"],
}

FIRST_NAMES = {
    "us": ["james", "olivia", "liam", "emma", "noah", "ava", "william", "sophia", "mason", "mia"],
    "global": [
        "oliver",
        "amelia",
        "jack",
        "isla",
        "harry",
        "chloe",
        "noa",
        "diego",
        "lucia",
        "ethan",
    ],
    "fr": ["camille", "lea", "manon", "chloe", "lucas", "hugo", "louis", "jules", "ines", "nathan"],
    "es": ["lucia", "sofia", "maria", "pablo", "alejandro", "daniel", "javier", "carmen", "paula"],
    "ru": ["ivan", "dmitry", "sergey", "anna", "olga", "elena", "maria", "alexey", "natasha"],
    "de": ["lukas", "leon", "finn", "anna", "lea", "lena", "jonas", "sophie", "felix", "marie"],
    "it": ["marco", "luca", "giulia", "francesca", "alessandro", "chiara", "matteo", "sara"],
    "pl": ["jakub", "kacper", "zuzanna", "julia", "piotr", "anna", "michal", "ola"],
    "br": ["joao", "gabriel", "ana", "beatriz", "lucas", "mariana", "rafael", "larissa"],
    "kr": ["minjun", "seoyeon", "jiho", "haeun", "doyun", "jiwoo", "seojun"],
    "jp": ["haruto", "yui", "sota", "hina", "ren", "aoi", "yuto"],
    "nl": ["daan", "sem", "emma", "julia", "lucas", "tess", "milan"],
}
LAST_NAMES = {
    "us": ["smith", "johnson", "williams", "brown", "jones", "miller", "davis", "garcia", "wilson"],
    "global": [
        "taylor",
        "walker",
        "cohen",
        "hernandez",
        "martin",
        "roy",
        "white",
        "levi",
        "clarke",
    ],
    "fr": [
        "martin",
        "bernard",
        "dubois",
        "thomas",
        "robert",
        "richard",
        "petit",
        "durand",
        "moreau",
    ],
    "es": ["garcia", "fernandez", "lopez", "martinez", "sanchez", "perez", "gomez", "ruiz"],
    "ru": ["ivanov", "smirnov", "kuznetsov", "popov", "sokolov", "petrova", "volkova", "morozov"],
    "de": ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker"],
    "it": ["rossi", "russo", "ferrari", "esposito", "bianchi", "romano", "colombo", "ricci"],
    "pl": ["nowak", "kowalski", "wisniewski", "wojcik", "kowalczyk", "kaminska", "lewandowski"],
    "br": ["silva", "santos", "oliveira", "souza", "lima", "pereira", "costa", "almeida"],
    "kr": ["kim", "lee", "park", "choi", "jung", "kang", "cho"],
    "jp": ["sato", "suzuki", "takahashi", "tanaka", "watanabe", "ito", "yamamoto"],
    "nl": ["dejong", "jansen", "devries", "bakker", "visser", "smit", "meijer"],
}

PAYMENT_METHODS = [
    ("card", 45),
    ("paypal", 22),
    ("apple_pay", 10),
    ("google_pay", 9),
    ("alipay", 10),
    ("bank_transfer", 4),
]

# Review texts by language. "Not as described" negatives exist in en/fr/es/ru (SPEC E-3 keywords).
REVIEWS_POSITIVE = {
    "en": [
        "Great quality, exactly as pictured.",
        "Fast delivery and well packed. Recommended!",
        "Works perfectly, the seller answered my questions quickly.",
        "Very happy with this purchase.",
        "Good value for the price, would buy again.",
    ],
    "fr": [
        "Très bonne qualité, conforme à la photo.",
        "Livraison rapide, bien emballé. Je recommande !",
        "Parfait, vendeur sérieux.",
        "Très satisfaite de mon achat.",
    ],
    "es": [
        "Muy buena calidad, igual que en la foto.",
        "Envío rápido y bien embalado. ¡Recomendado!",
        "Funciona perfectamente, el vendedor respondió rápido.",
        "Muy contento con la compra.",
    ],
    "ru": [
        "Отличное качество, как на фото.",
        "Быстрая доставка, хорошая упаковка. Рекомендую!",
        "Всё работает, продавец отвечает быстро.",
        "Очень довольна покупкой.",
    ],
    "de": [
        "Sehr gute Qualität, wie beschrieben.",
        "Schnelle Lieferung, gut verpackt. Gerne wieder!",
    ],
    "it": ["Ottima qualità, come in foto.", "Spedizione veloce, venditore consigliato!"],
    "pt": ["Ótima qualidade, igual à foto.", "Chegou rápido e bem embalado. Recomendo!"],
    "pl": ["Bardzo dobra jakość, zgodne z opisem.", "Szybka dostawa, polecam!"],
    "ko": ["품질이 아주 좋아요. 사진과 똑같아요.", "배송이 빠르고 포장도 꼼꼼해요."],
    "ja": ["品質がとても良いです。写真通りでした。", "配送が早く、梱包も丁寧でした。"],
    "nl": ["Goede kwaliteit, precies zoals op de foto.", "Snelle levering, goed verpakt."],
}
REVIEWS_NEUTRAL = {
    "en": ["OK for the price, nothing special.", "Average quality, delivery took a while."],
    "fr": ["Correct sans plus.", "Qualité moyenne, livraison un peu longue."],
    "es": ["Normal, nada especial.", "Calidad regular por el precio."],
    "ru": ["Нормально, но ничего особенного.", "Качество среднее, доставка долгая."],
}
REVIEWS_NOT_AS_DESCRIBED = {
    "en": [
        "Not as described. The colour and size are completely different.",
        "Item not as described, looks cheap and much smaller than in the photos.",
        "Not as described - the material is plastic, not metal.",
    ],
    "fr": [
        "Pas conforme à la description, la couleur est différente.",
        "Article non conforme à la description, très déçue.",
    ],
    "es": [
        "No es como se describe, el tamaño es diferente.",
        "No corresponde a la descripción, muy mala calidad.",
    ],
    "ru": [
        "Не соответствует описанию, цвет совсем другой.",
        "Товар не соответствует описанию, качество ужасное.",
    ],
}
REVIEWS_NEGATIVE_OTHER = {
    "en": ["Shipping took forever, it arrived after six weeks.", "Stopped working after two days."],
    "fr": ["Livraison beaucoup trop longue.", "Cassé au bout de deux jours."],
    "es": ["El envío tardó muchísimo.", "Dejó de funcionar a los dos días."],
    "ru": ["Доставка очень долгая.", "Сломалось через два дня."],
}

VIOLATIONS_SERIOUS = [
    ("counterfeit_goods", "Listing reported as counterfeit of a registered trademark."),
    ("fake_tracking", "Tracking numbers uploaded that the carrier never scanned."),
]
VIOLATIONS_MINOR = [
    ("misleading_description", "Product photos did not match the item delivered."),
    ("late_shipment", "Several orders shipped after the promised handling time."),
]

# Local product pictures (static/img/products/, no network): per category, the first whose
# keyword is in the product's title, else the category's last (its generic picture).
PRODUCT_IMAGES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    C.CONSUMER_ELECTRONICS: [
        ("electronics-headphones", ("Earbuds", "Headphones")),
        ("electronics-speaker", ("Speaker", "Recorder")),
        ("electronics-device", ()),
    ],
    C.DIGITAL_ACCESSORIES: [
        ("accessories-charger", ("Charg", "Cable", "Power", "Hub")),
        ("accessories-phone", ()),
    ],
    C.HOME_GARDEN: [("home-lamp", ("Light", "Lamp", "Clock")), ("home-plant", ())],
    C.AUTO_MOTO: [("auto-wheel", ())],
    C.WOMENS_FASHION: [("fashion-dress", ())],
    C.MENS_FASHION: [("fashion-shirt", ())],
    C.BEAUTY: [("beauty-bottle", ())],
    C.TOYS: [("toys-blocks", ())],
    C.SPORTS: [("sports-ball", ())],
    C.JEWELRY: [("jewelry-gem", ())],
}
