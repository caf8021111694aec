"""Vocabulary of the demo shop: categories, products, brands, phrases — data only, no logic.

Every text pair is ``(Chinese, English)``. :mod:`shopmind.data.demo` turns these tables into a
catalog, users, behaviour and reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[str, str]

# --------------------------------------------------------------------------- category tree

TOP_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    # key, Chinese, English
    ("electronics", "数码", "Electronics"),
    ("accessories", "手机配件", "Phone Accessories"),
    ("computers", "电脑办公", "Computers & Office"),
    ("beauty", "美妆护肤", "Beauty"),
    ("clothing", "服装", "Clothing"),
    ("home", "家居厨房", "Home & Kitchen"),
    ("food", "食品饮料", "Food & Drinks"),
    ("books", "图书", "Books"),
    ("sports", "运动户外", "Sports & Outdoors"),
)

COMMON_ASPECTS = ("quality", "logistics", "service", "price", "packaging")

ASPECTS_BY_TOP: dict[str, tuple[str, ...]] = {
    "electronics": COMMON_ASPECTS + ("appearance", "performance", "authenticity"),
    "accessories": COMMON_ASPECTS + ("appearance", "performance"),
    "computers": COMMON_ASPECTS + ("appearance", "performance", "authenticity"),
    "beauty": COMMON_ASPECTS + ("performance", "authenticity"),
    "clothing": COMMON_ASPECTS + ("fit", "appearance"),
    "home": COMMON_ASPECTS + ("appearance", "performance"),
    "food": COMMON_ASPECTS + ("taste", "authenticity"),
    "books": COMMON_ASPECTS + ("authenticity",),
    "sports": COMMON_ASPECTS + ("appearance", "performance"),
}

# Demand: Monday..Sunday multipliers (normalised to mean 1 in code) and daily log-growth.
WEEKLY_PROFILE: dict[str, tuple[float, ...]] = {
    "electronics": (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.1),
    "accessories": (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05),
    "computers": (1.25, 1.2, 1.1, 1.05, 0.95, 0.65, 0.8),
    "beauty": (0.9, 0.9, 0.95, 1.0, 1.1, 1.2, 1.1),
    "clothing": (0.75, 0.8, 0.85, 0.9, 1.1, 1.45, 1.35),
    "home": (0.9, 0.9, 0.9, 0.95, 1.0, 1.25, 1.3),
    "food": (1.0, 0.9, 0.9, 1.0, 1.35, 1.2, 0.85),
    "books": (0.9, 0.85, 0.9, 0.9, 0.95, 1.15, 1.45),
    "sports": (1.15, 0.9, 0.9, 0.95, 0.85, 1.15, 1.25),
}
DAILY_TREND: dict[str, float] = {  # log-growth per day: sports +~60 % over 120 days
    "electronics": 0.0, "accessories": 0.0, "computers": 0.0, "beauty": 0.002,
    "clothing": -0.002, "home": 0.0, "food": 0.0, "books": 0.0, "sports": 0.004,
}
ELASTIC_LEAVES: dict[str, float] = {"nuts": -2.2, "biscuits": -1.2}
"""Leaves whose items run promotions, with their planted price elasticity of demand."""
PROMO_DISCOUNTS = (0.1, 0.2, 0.3)

HOURLY_ACTIVITY = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.0, 1.1, 1.2, 1.4,
                   1.6, 1.4, 1.2, 1.2, 1.3, 1.4, 1.6, 1.9, 2.2, 2.3, 1.8, 0.9)

# --------------------------------------------------------------------------- attributes

COLOURS: tuple[Pair, ...] = (
    ("黑色", "Black"), ("白色", "White"), ("蓝色", "Blue"), ("灰色", "Grey"), ("粉色", "Pink"),
    ("绿色", "Green"), ("红色", "Red"), ("米色", "Beige"), ("紫色", "Purple"),
)
ATTRIBUTE_POOLS: dict[str, tuple[Pair, ...]] = {
    "colour": COLOURS,
    "storage": (("128GB", "128GB"), ("256GB", "256GB"), ("512GB", "512GB")),
    "case_material": (("硅胶", "silicone"), ("TPU", "TPU"), ("皮革", "leather"),
                      ("磨砂PC", "matte polycarbonate")),
    "fabric": (("纯棉", "cotton"), ("亚麻", "linen"), ("羊毛", "wool"), ("涤纶", "polyester"),
               ("真丝", "silk")),
    "size_range": (("S-XL", "S-XL"), ("XS-L", "XS-L"), ("M-XXL", "M-XXL")),
    "shoe_size": (("36-44码", "EU 36-44"), ("39-45码", "EU 39-45"), ("35-40码", "EU 35-40")),
    "power": (("20W", "20W"), ("33W", "33W"), ("65W", "65W"), ("100W", "100W")),
    "connector": (("USB-C", "USB-C"), ("Lightning", "Lightning"), ("USB-A", "USB-A")),
    "cable_length": (("1米", "1 m"), ("1.5米", "1.5 m"), ("2米", "2 m")),
    "battery": (("10000mAh", "10000mAh"), ("20000mAh", "20000mAh")),
    "screen": (("24英寸", "24-inch"), ("27英寸", "27-inch"), ("32英寸", "32-inch")),
    "switch": (("红轴", "red switches"), ("青轴", "blue switches"), ("茶轴", "brown switches")),
    "volume_ml": (("30ml", "30 ml"), ("50ml", "50 ml"), ("100ml", "100 ml"), ("150ml", "150 ml")),
    "skin_type": (("所有肤质", "all skin types"), ("油性肌肤", "oily skin"),
                  ("干性肌肤", "dry skin"), ("敏感肌", "sensitive skin")),
    "shade": (("正红色", "classic red"), ("豆沙色", "rosewood"), ("珊瑚色", "coral"),
              ("裸色", "nude")),
    "pan_material": (("不锈钢", "stainless steel"), ("铸铁", "cast iron"), ("不粘涂层", "non-stick")),
    "bed_size": (("1.5米床", "queen size"), ("1.8米床", "king size")),
    "food_weight": (("250g", "250 g"), ("500g", "500 g"), ("1kg", "1 kg")),
    "roast": (("浅度烘焙", "light roast"), ("中度烘焙", "medium roast"), ("深度烘焙", "dark roast")),
    "origin": (("云南", "Yunnan"), ("福建", "Fujian"), ("浙江", "Zhejiang"), ("新疆", "Xinjiang")),
    "cover": (("平装", "paperback"), ("精装", "hardcover")),
    "thickness": (("6mm", "6 mm"), ("8mm", "8 mm"), ("10mm", "10 mm")),
    "capacity_people": (("单人", "1-person"), ("双人", "2-person"), ("四人", "4-person")),
    "temperature": (("舒适温度5℃", "comfort 5°C"), ("舒适温度-5℃", "comfort -5°C")),
}
ATTRIBUTE_PHRASES: dict[str, Pair] = {
    # attribute key -> how a description mentions it ("{v}" is the value)
    "colour": ("{v}配色", "in {v}"),
    "storage": ("{v}大存储", "with {v} of storage"),
    "material": ("{v}材质", "made of {v}"),
    "size_range": ("尺码{v}", "sizes {v}"),
    "shoe_size": ("尺码{v}", "sizes {v}"),
    "power": ("{v}快充", "{v} fast charging"),
    "connector": ("{v}接口", "{v} connector"),
    "length": ("长度{v}", "{v} long"),
    "battery": ("电池容量{v}", "{v} battery"),
    "screen": ("{v}屏幕", "{v} screen"),
    "switch": ("{v}机械轴", "{v}"),
    "volume": ("容量{v}", "{v}"),
    "skin_type": ("适合{v}", "suits {v}"),
    "shade": ("{v}色号", "shade {v}"),
    "bed_size": ("适用{v}", "fits a {v} bed"),
    "weight": ("净含量{v}", "net weight {v}"),
    "roast": ("{v}", "{v}"),
    "origin": ("产地{v}", "from {v}"),
    "cover": ("{v}", "{v}"),
    "thickness": ("厚度{v}", "{v} thick"),
    "capacity": ("{v}", "{v}"),
    "temperature": ("{v}", "{v}"),
    "compatible_model": ("适用于{v}", "fits {v}"),
    "author": ("作者{v}", "by {v}"),
}


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Leaf:
    """A leaf of the category tree and how to make products in it."""

    key: str
    top: str  # key into TOP_CATEGORIES
    zh: tuple[str, ...]  # path below the top level
    en: tuple[str, ...]
    noun: Pair  # product noun, used in titles, descriptions and search queries
    price: tuple[float, float]  # median price in CNY, log-sd
    share: float  # share of the generated (not planted) items
    brands: tuple[Pair, ...] = ()
    features: tuple[Pair, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()  # (attribute key, pool in ATTRIBUTE_POOLS)
    use: Pair = ("", "")
    aspects: tuple[str, ...] | None = None  # None: ASPECTS_BY_TOP[top]
    titles: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] | None = None  # book titles


SERIES: tuple[Pair, ...] = (
    ("Pro", "Pro"), ("Lite", "Lite"), ("Air", "Air"), ("经典款", "Classic"), ("升级版", "Plus"),
    ("2026款", "2026 Edition"), ("Max", "Max"), ("青春版", "Youth"),
)

_COLOUR = ("colour", "colour")

LEAVES: tuple[Leaf, ...] = (
    # electronics
    Leaf("smartphones", "electronics", ("手机", "智能手机"), ("Phones", "Smartphones"),
         ("智能手机", "Smartphone"), (3999, 0.35), 0.0,
         features=(("5G全网通", "5G"), ("超长续航", "all-day battery"),
                   ("影像旗舰", "flagship camera"), ("高刷屏", "120Hz display")),
         attributes=(_COLOUR, ("storage", "storage")),
         use=("日常使用和拍照都很出色", "Great for everyday use and photography")),
    Leaf("headphones", "electronics", ("影音", "耳机"), ("Audio", "Headphones"),
         ("蓝牙耳机", "Headphones"), (399, 0.6), 0.05,
         brands=(("索尼", "Sony"), ("漫步者", "Edifier"), ("华为", "Huawei"), ("Bose", "Bose"),
                 ("JBL", "JBL"), ("声阔", "Soundcore")),
         features=(("主动降噪", "Active Noise Cancelling"), ("真无线", "True Wireless"),
                   ("头戴式", "Over-Ear"), ("低延迟", "Low-Latency"), ("运动防水", "Sport Waterproof")),
         attributes=(_COLOUR,),
         use=("通勤和运动时佩戴都很合适", "Ideal for commuting and workouts")),
    Leaf("smartwatches", "electronics", ("智能穿戴", "智能手表"), ("Wearables", "Smartwatches"),
         ("智能手表", "Smartwatch"), (1299, 0.5), 0.03,
         brands=(("华为", "Huawei"), ("小米", "Xiaomi"), ("佳明", "Garmin"), ("Amazfit", "Amazfit")),
         features=(("心率血氧监测", "Heart-Rate & SpO2"), ("GPS定位", "GPS"),
                   ("长续航", "Long Battery"), ("NFC支付", "NFC Payments")),
         attributes=(_COLOUR,),
         use=("运动健康管理好帮手", "A companion for fitness and health tracking")),
    Leaf("tablets", "electronics", ("平板电脑",), ("Tablets",), ("平板电脑", "Tablet"),
         (2999, 0.4), 0.03,
         brands=(("华为", "Huawei"), ("小米", "Xiaomi"), ("联想", "Lenovo"), ("荣耀", "Honor")),
         features=(("11英寸护眼屏", "11-inch Eye-Care Display"), ("手写笔支持", "Stylus Support"),
                   ("轻薄", "Slim")),
         attributes=(_COLOUR, ("storage", "storage")),
         use=("学习、追剧和办公都能胜任", "Handles study, streaming and work")),
    # phone accessories
    Leaf("cases", "accessories", ("手机壳",), ("Cases",), ("手机壳", "Case"), (59, 0.4), 0.05,
         brands=(("倍思", "Baseus"), ("邦克仕", "Benks"), ("ESR", "ESR"), ("摩米士", "Momax")),
         features=(("透明防摔", "Clear Shockproof"), ("磁吸", "Magnetic"), ("超薄", "Ultra-Thin"),
                   ("全包", "Full-Body")),
         attributes=(("material", "case_material"), _COLOUR),
         use=("全方位保护手机", "Keeps your phone protected")),
    Leaf("chargers", "accessories", ("充电器",), ("Chargers",), ("充电器", "Charger"),
         (99, 0.4), 0.025,
         brands=(("绿联", "UGREEN"), ("安克", "Anker"), ("倍思", "Baseus")),
         features=(("氮化镓", "GaN"), ("多口", "Multi-Port"), ("折叠插脚", "Foldable")),
         attributes=(("power", "power"), ("connector", "connector")),
         use=("出差旅行一个就够", "One charger for all your travel")),
    Leaf("cables", "accessories", ("数据线",), ("Cables",), ("数据线", "Cable"), (39, 0.4), 0.035,
         brands=(("绿联", "UGREEN"), ("安克", "Anker"), ("倍思", "Baseus")),
         features=(("编织", "Braided"), ("快充", "Fast-Charging"), ("弯头", "Right-Angle")),
         attributes=(("connector", "connector"), ("length", "cable_length")),
         use=("耐弯折，经久耐用", "Built to survive daily bending")),
    Leaf("screen_protectors", "accessories", ("贴膜",), ("Screen Protectors",),
         ("钢化膜", "Screen Protector"), (29, 0.3), 0.0,
         attributes=(),
         use=("高清透光，防指纹", "Crystal clear and fingerprint-resistant")),
    Leaf("power_banks", "accessories", ("移动电源",), ("Power Banks",),
         ("充电宝", "Power Bank"), (149, 0.4), 0.03,
         brands=(("小米", "Xiaomi"), ("安克", "Anker"), ("罗马仕", "Romoss")),
         features=(("自带线", "Built-in Cable"), ("22.5W快充", "22.5W Fast"), ("超薄", "Slim")),
         attributes=(("battery", "battery"), _COLOUR),
         use=("出门在外不怕没电", "Never run out of battery on the go")),
    # computers
    Leaf("laptops", "computers", ("电脑整机", "笔记本电脑"), ("Computers", "Laptops"),
         ("笔记本电脑", "Laptop"), (6999, 0.35), 0.0,
         features=(("轻薄", "thin and light"), ("长续航", "long battery life"),
                   ("高色域屏", "wide-gamut display")),
         attributes=(_COLOUR,),
         use=("移动办公的理想选择", "Ideal for working on the move")),
    Leaf("mice", "computers", ("外设", "鼠标"), ("Peripherals", "Mice"), ("鼠标", "Mouse"),
         (129, 0.6), 0.03,
         brands=(("罗技", "Logitech"), ("雷蛇", "Razer"), ("小米", "Xiaomi")),
         features=(("无线", "Wireless"), ("静音", "Silent"), ("人体工学", "Ergonomic"),
                   ("电竞", "Gaming")),
         attributes=(_COLOUR,),
         use=("手感舒适，长时间使用不累", "Comfortable for long sessions")),
    Leaf("keyboards", "computers", ("外设", "键盘"), ("Peripherals", "Keyboards"),
         ("键盘", "Keyboard"), (299, 0.5), 0.03,
         brands=(("罗技", "Logitech"), ("樱桃", "Cherry"), ("阿米洛", "Varmilo"), ("雷蛇", "Razer")),
         features=(("机械", "Mechanical"), ("无线三模", "Tri-Mode Wireless"), ("87键", "TKL")),
         attributes=(("switch", "switch"), _COLOUR),
         use=("码字打游戏都顺手", "Great for typing and gaming")),
    Leaf("monitors", "computers", ("显示器",), ("Monitors",), ("显示器", "Monitor"),
         (1299, 0.4), 0.03,
         brands=(("戴尔", "Dell"), ("AOC", "AOC"), ("LG", "LG"), ("明基", "BenQ")),
         features=(("4K", "4K"), ("IPS", "IPS"), ("144Hz高刷", "144Hz"), ("Type-C一线连", "USB-C")),
         attributes=(("screen", "screen"),),
         use=("办公设计都清晰细腻", "Sharp for office work and design")),
    Leaf("laptop_bags", "computers", ("电脑包",), ("Laptop Bags",), ("电脑包", "Laptop Bag"),
         (129, 0.4), 0.02,
         brands=(("帕克维斯", "Packwise"), ("新秀丽", "Samsonite")),
         features=(("防泼水", "Water-Resistant"), ("双肩", "Backpack"), ("商务", "Business")),
         attributes=(_COLOUR,),
         use=("通勤出差都方便", "Handy for commuting and business trips")),
    # beauty
    Leaf("cleansers", "beauty", ("面部护肤", "洁面"), ("Skincare", "Cleansers"),
         ("洁面乳", "Cleanser"), (89, 0.4), 0.02,
         brands=(("清研", "Purely"), ("雪域", "Snowline"), ("花间集", "Petal Lab"),
                 ("Lumière", "Lumière")),
         features=(("氨基酸", "Amino Acid"), ("温和", "Gentle"), ("控油", "Oil-Control")),
         attributes=(("volume", "volume_ml"), ("skin_type", "skin_type")),
         use=("洗后清爽不紧绷", "Leaves skin clean, never tight")),
    Leaf("toners", "beauty", ("面部护肤", "爽肤水"), ("Skincare", "Toners"), ("爽肤水", "Toner"),
         (129, 0.4), 0.02,
         brands=(("清研", "Purely"), ("雪域", "Snowline"), ("花间集", "Petal Lab")),
         features=(("补水保湿", "Hydrating"), ("舒缓", "Soothing"), ("收敛毛孔", "Pore-Refining")),
         attributes=(("volume", "volume_ml"), ("skin_type", "skin_type")),
         use=("早晚洁面后使用", "Use morning and evening after cleansing")),
    Leaf("serums", "beauty", ("面部护肤", "精华"), ("Skincare", "Serums"), ("精华液", "Serum"),
         (299, 0.5), 0.035,
         brands=(("清研", "Purely"), ("雪域", "Snowline"), ("Lumière", "Lumière"),
                 ("玉泽", "Jade Leaf")),
         features=(("烟酰胺", "Niacinamide"), ("玻尿酸", "Hyaluronic Acid"), ("维C", "Vitamin C"),
                   ("修护", "Repair")),
         attributes=(("volume", "volume_ml"), ("skin_type", "skin_type")),
         use=("坚持使用肤色更均匀", "Evens out skin tone with regular use")),
    Leaf("lipsticks", "beauty", ("彩妆", "口红"), ("Makeup", "Lipsticks"), ("口红", "Lipstick"),
         (199, 0.4), 0.03,
         brands=(("花间集", "Petal Lab"), ("Lumière", "Lumière"), ("花西子", "Florasis")),
         features=(("哑光", "Matte"), ("滋润", "Moisturising"), ("持久不脱色", "Long-Wear")),
         attributes=(("shade", "shade"),),
         use=("显白百搭", "A flattering everyday shade")),
    Leaf("fragrance", "beauty", ("香水",), ("Fragrance",), ("香水", "Eau de Parfum"),
         (499, 0.5), 0.02,
         brands=(("Lumière", "Lumière"), ("观夏", "To Summer"), ("气味图书馆", "Scent Library")),
         features=(("花香调", "Floral"), ("木质调", "Woody"), ("柑橘调", "Citrus")),
         attributes=(("volume", "volume_ml"),),
         use=("留香持久，适合日常", "Long-lasting, made for every day")),
    # clothing
    Leaf("dresses", "clothing", ("女装", "连衣裙"), ("Women", "Dresses"), ("连衣裙", "Dress"),
         (299, 0.45), 0.045,
         brands=(("素锦", "Silken"), ("拾光", "Daylight"), ("Urban Lane", "Urban Lane")),
         features=(("法式", "French-Style"), ("碎花", "Floral"), ("收腰", "Fitted"),
                   ("长款", "Maxi")),
         attributes=(("material", "fabric"), _COLOUR, ("size_range", "size_range")),
         use=("约会通勤都好看", "Works for dates and the office")),
    Leaf("sweaters", "clothing", ("女装", "毛衣"), ("Women", "Sweaters"), ("毛衣", "Sweater"),
         (259, 0.45), 0.035,
         brands=(("素锦", "Silken"), ("拾光", "Daylight"), ("鄂尔多斯", "Erdos")),
         features=(("宽松", "Oversized"), ("高领", "Turtleneck"), ("针织开衫", "Knit Cardigan")),
         attributes=(("material", "fabric"), _COLOUR, ("size_range", "size_range")),
         use=("保暖又显瘦", "Warm without the bulk")),
    Leaf("tshirts", "clothing", ("男装", "T恤"), ("Men", "T-Shirts"), ("T恤", "T-Shirt"),
         (99, 0.4), 0.045,
         brands=(("优衣库", "Uniqlo"), ("海澜之家", "HLA"), ("Basic Co.", "Basic Co.")),
         features=(("纯棉圆领", "Cotton Crew-Neck"), ("速干", "Quick-Dry"), ("重磅", "Heavyweight")),
         attributes=(("material", "fabric"), _COLOUR, ("size_range", "size_range")),
         use=("百搭基础款", "An easy everyday basic")),
    Leaf("jackets", "clothing", ("男装", "外套"), ("Men", "Jackets"), ("外套", "Jacket"),
         (499, 0.45), 0.035,
         brands=(("海澜之家", "HLA"), ("骆驼", "Camel"), ("Northway", "Northway")),
         features=(("防风", "Windproof"), ("羽绒", "Down"), ("工装", "Utility"), ("夹克", "Bomber")),
         attributes=(("material", "fabric"), _COLOUR, ("size_range", "size_range")),
         use=("秋冬出行必备", "A cold-weather essential")),
    # home & kitchen
    Leaf("cookware", "home", ("厨具", "炒锅"), ("Kitchen", "Pans & Woks"), ("炒锅", "Pan"),
         (199, 0.5), 0.03,
         brands=(("苏泊尔", "Supor"), ("双立人", "Zwilling"), ("爱仕达", "ASD")),
         features=(("不粘", "Non-Stick"), ("少油烟", "Low-Smoke"), ("电磁炉通用", "Induction-Ready")),
         attributes=(("material", "pan_material"),),
         use=("家常炒菜得心应手", "Makes everyday cooking easy")),
    Leaf("utensils", "home", ("厨具", "锅铲"), ("Kitchen", "Utensils"), ("锅铲", "Spatula"),
         (39, 0.4), 0.015,
         brands=(("苏泊尔", "Supor"), ("双立人", "Zwilling")),
         features=(("耐高温", "Heat-Resistant"), ("不伤锅", "Pan-Safe")),
         attributes=(_COLOUR,),
         use=("翻炒顺手", "Flips and stirs with ease")),
    Leaf("coffee_machines", "home", ("厨房电器", "咖啡机"), ("Kitchen Appliances", "Coffee Machines"),
         ("咖啡机", "Coffee Machine"), (1299, 0.6), 0.0,
         features=(("一键萃取", "one-touch brewing"), ("奶泡", "milk frother")),
         attributes=(_COLOUR,),
         use=("在家也能喝到好咖啡", "Café-quality coffee at home")),
    Leaf("bedding", "home", ("家纺", "四件套"), ("Bedding", "Bedding Sets"),
         ("床品四件套", "Bedding Set"), (399, 0.45), 0.03,
         brands=(("水星家纺", "Mercury"), ("罗莱", "Luolai"), ("CozyNest", "CozyNest")),
         features=(("全棉", "Cotton"), ("磨毛", "Brushed"), ("天丝", "Tencel")),
         attributes=(("bed_size", "bed_size"), _COLOUR),
         use=("亲肤柔软，一夜好眠", "Soft on the skin for a good night's sleep")),
    Leaf("storage", "home", ("收纳",), ("Storage",), ("收纳箱", "Storage Box"), (59, 0.45), 0.025,
         brands=(("禧天龙", "Citylong"), ("CozyNest", "CozyNest"), ("无印良品", "MUJI")),
         features=(("可折叠", "Foldable"), ("带盖", "Lidded"), ("透明", "Clear")),
         attributes=(_COLOUR,),
         use=("让家里整洁有序", "Keeps your home tidy")),
    # food & drinks
    Leaf("nuts", "food", ("休闲零食", "坚果"), ("Snacks", "Nuts"), ("每日坚果", "Mixed Nuts"),
         (59, 0.35), 0.03,
         brands=(("三只松鼠", "Three Squirrels"), ("良品铺子", "Bestore"), ("百草味", "Be&Cheery")),
         features=(("原味", "Unsalted"), ("混合", "Mixed"), ("烘焙", "Roasted")),
         attributes=(("weight", "food_weight"),),
         use=("办公室解馋好零食", "A handy office snack")),
    Leaf("biscuits", "food", ("休闲零食", "饼干"), ("Snacks", "Cookies & Biscuits"),
         ("饼干", "Biscuits"), (29, 0.35), 0.025,
         brands=(("奥利奥", "Oreo"), ("嘉士利", "Jiashili"), ("好丽友", "Orion")),
         features=(("黄油", "Butter"), ("全麦", "Wholegrain"), ("夹心", "Sandwich")),
         attributes=(("weight", "food_weight"),),
         use=("下午茶好搭档", "Perfect with afternoon tea")),
    Leaf("coffee_beans", "food", ("咖啡", "咖啡豆"), ("Coffee", "Coffee Beans"),
         ("咖啡豆", "Coffee Beans"), (89, 0.4), 0.02,
         brands=(("云野", "Yunye"), ("山谷", "Valley Roast"), ("隅田川", "Sumida")),
         features=(("阿拉比卡", "Arabica"), ("精品", "Specialty"), ("意式拼配", "Espresso Blend")),
         attributes=(("roast", "roast"), ("weight", "food_weight")),
         use=("香气浓郁，回甘明显", "Rich aroma with a sweet finish")),
    Leaf("tea", "food", ("茶叶",), ("Tea",), ("茶叶", "Tea"), (159, 0.55), 0.03,
         brands=(("八马", "Bama"), ("艺福堂", "Yifutang"), ("小罐茶", "Xiaoguan")),
         features=(("明前龙井", "Longjing Green"), ("大红袍", "Da Hong Pao Oolong"),
                   ("滇红", "Dian Hong Black"), ("白毫银针", "Silver Needle White")),
         attributes=(("origin", "origin"), ("weight", "food_weight")),
         use=("送礼自饮两相宜", "For gifting or your own cup")),
    # books
    Leaf("fiction", "books", ("小说",), ("Fiction",), ("小说", "Novel"), (45, 0.3), 0.04,
         brands=(("人民文学出版社", "Riverbank Press"), ("译林出版社", "Lantern Books")),
         attributes=(("cover", "cover"),),
         use=("值得一读再读", "A book worth rereading"),
         titles=(("《{0}{1}》", (("夜航", "深海", "长街", "远山", "雾中", "春日", "北方", "无声"),
                                ("的信", "之歌", "笔记", "往事", "旅人", "来客", "回忆录"))),
                 ("The {0} {1}", (("Silent", "Distant", "Hidden", "Last", "Winter", "Golden",
                                   "Broken", "Paper"),
                                  ("Harbor", "Garden", "Letters", "Orchard", "River", "Archive",
                                   "Lanterns", "Map"))))),
    Leaf("programming", "books", ("计算机", "编程"), ("Computing", "Programming"),
         ("编程书", "Programming Book"), (89, 0.3), 0.03,
         brands=(("机械工业出版社", "Circuit Press"), ("人民邮电出版社", "Byteworks Publishing")),
         attributes=(("cover", "cover"),),
         use=("理论与实战结合", "Theory meets practice"),
         titles=(("《{0}{1}》", (("Python", "Rust", "Go", "Java", "C++", "TypeScript", "SQL"),
                                ("编程入门", "实战", "核心技术", "设计模式", "高性能编程"))),
                 ("{1} {0}", (("Python", "Rust", "Go", "Java", "C++", "TypeScript", "SQL"),
                              ("Hands-On", "Deep Dive:", "Modern", "Practical", "Mastering"))))),
    Leaf("childrens_books", "books", ("童书",), ("Children's Books",), ("绘本", "Picture Book"),
         (35, 0.3), 0.03,
         brands=(("蒲公英童书馆", "Dandelion Kids"), ("接力出版社", "Relay Kids")),
         attributes=(("cover", "cover"),),
         use=("适合3-6岁亲子共读", "For reading together, ages 3-6"),
         titles=(("《小{0}{1}》", (("熊", "兔", "狐狸", "企鹅", "象", "刺猬", "鲸鱼"),
                                 ("去旅行", "找朋友", "的生日", "学游泳", "不想睡觉", "的花园"))),
                 ("Little {0} {1}", (("Bear", "Rabbit", "Fox", "Penguin", "Elephant",
                                      "Hedgehog", "Whale"),
                                     ("Goes Sailing", "Finds a Friend", "Has a Birthday",
                                      "Learns to Swim", "Won't Sleep", "Plants a Garden"))))),
    # sports & outdoors
    Leaf("running_shoes", "sports", ("运动鞋", "跑步鞋"), ("Shoes", "Running Shoes"),
         ("跑步鞋", "Running Shoes"), (599, 0.4), 0.04,
         brands=(("李宁", "Li-Ning"), ("安踏", "Anta"), ("耐克", "Nike"), ("亚瑟士", "ASICS")),
         features=(("缓震", "Cushioned"), ("轻量", "Lightweight"), ("碳板竞速", "Carbon-Plate")),
         attributes=(_COLOUR, ("shoe_size", "shoe_size")),
         use=("日常慢跑和训练都适合", "For daily runs and training"),
         aspects=COMMON_ASPECTS + ("fit", "appearance", "performance")),
    Leaf("yoga", "sports", ("健身", "瑜伽垫"), ("Fitness", "Yoga Mats"), ("瑜伽垫", "Yoga Mat"),
         (129, 0.4), 0.025,
         brands=(("Keep", "Keep"), ("迪卡侬", "Decathlon"), ("Lululemon", "Lululemon")),
         features=(("防滑", "Non-Slip"), ("加厚", "Extra-Thick"), ("TPE", "TPE")),
         attributes=(("thickness", "thickness"), _COLOUR),
         use=("居家健身好伴侣", "For home workouts")),
    Leaf("tents", "sports", ("户外", "帐篷"), ("Outdoor", "Tents"), ("帐篷", "Tent"),
         (699, 0.45), 0.015,
         brands=(("山野", "Summit Trail"), ("北纬", "North Latitude"), ("轻行", "Featherline")),
         features=(("防雨", "Waterproof"), ("速开", "Pop-Up"), ("超轻", "Ultralight")),
         attributes=(("capacity", "capacity_people"),),
         use=("露营徒步必备", "A camping and hiking essential")),
    Leaf("sleeping_bags", "sports", ("户外", "睡袋"), ("Outdoor", "Sleeping Bags"),
         ("睡袋", "Sleeping Bag"), (299, 0.45), 0.01,
         brands=(("山野", "Summit Trail"), ("北纬", "North Latitude"), ("轻行", "Featherline")),
         features=(("信封式", "Envelope"), ("木乃伊式", "Mummy"), ("羽绒", "Down")),
         attributes=(("temperature", "temperature"),),
         use=("户外过夜温暖安心", "Stay warm on nights outdoors")),
)

# --------------------------------------------------------------------------- planted products
# Each row is fixed; the generator links them into sequences (next-item rules) and baskets.

PHONES: tuple[tuple[str, Pair, Pair, Pair, float, str], ...] = (
    # key, brand, full name, short name (used by accessories), price, charger key
    ("iphone15", ("苹果", "Apple"), ("Apple iPhone 15", "Apple iPhone 15"),
     ("iPhone 15", "iPhone 15"), 5999, "apple"),
    ("iphone15pro", ("苹果", "Apple"), ("Apple iPhone 15 Pro", "Apple iPhone 15 Pro"),
     ("iPhone 15 Pro", "iPhone 15 Pro"), 7999, "apple"),
    ("iphone14", ("苹果", "Apple"), ("Apple iPhone 14", "Apple iPhone 14"),
     ("iPhone 14", "iPhone 14"), 4999, "apple"),
    ("xiaomi14", ("小米", "Xiaomi"), ("小米14", "Xiaomi 14"), ("小米14", "Xiaomi 14"), 3999, "xiaomi"),
    ("redmik70", ("红米", "Redmi"), ("Redmi K70", "Redmi K70"), ("Redmi K70", "Redmi K70"),
     2499, "xiaomi"),
    ("mate60pro", ("华为", "Huawei"), ("华为 Mate 60 Pro", "Huawei Mate 60 Pro"),
     ("Mate 60 Pro", "Mate 60 Pro"), 6999, "huawei"),
    ("pura70", ("华为", "Huawei"), ("华为 Pura 70", "Huawei Pura 70"), ("Pura 70", "Pura 70"),
     5499, "huawei"),
    ("galaxys24", ("三星", "Samsung"), ("三星 Galaxy S24", "Samsung Galaxy S24"),
     ("Galaxy S24", "Galaxy S24"), 5699, "samsung"),
    ("findx7", ("OPPO", "OPPO"), ("OPPO Find X7", "OPPO Find X7"), ("Find X7", "Find X7"),
     3999, "oppo"),
    ("x100", ("vivo", "vivo"), ("vivo X100", "vivo X100"), ("vivo X100", "vivo X100"),
     3999, "vivo"),
    ("magic6", ("荣耀", "Honor"), ("荣耀 Magic6", "Honor Magic6"), ("Magic6", "Magic6"),
     4399, "honor"),
    ("oneplus12", ("一加", "OnePlus"), ("一加 12", "OnePlus 12"), ("一加 12", "OnePlus 12"),
     4299, "oneplus"),
)
CHARGERS: tuple[tuple[str, Pair, Pair, float, str], ...] = (
    # key, brand, title, price, power
    ("apple", ("苹果", "Apple"), ("Apple 20W USB-C 电源适配器", "Apple 20W USB-C Power Adapter"),
     149, "20W"),
    ("xiaomi", ("小米", "Xiaomi"), ("小米 67W 快充充电器套装", "Xiaomi 67W Fast Charger Kit"),
     99, "67W"),
    ("huawei", ("华为", "Huawei"), ("华为 66W 超级快充充电器", "Huawei 66W SuperCharge Charger"),
     149, "66W"),
    ("samsung", ("三星", "Samsung"), ("三星 25W 超快充充电头", "Samsung 25W Super Fast Charger"),
     129, "25W"),
    ("oppo", ("OPPO", "OPPO"), ("OPPO 80W SUPERVOOC 闪充充电器", "OPPO 80W SUPERVOOC Charger"),
     149, "80W"),
    ("vivo", ("vivo", "vivo"), ("vivo 120W 闪充充电器", "vivo 120W FlashCharge Charger"),
     159, "120W"),
    ("honor", ("荣耀", "Honor"), ("荣耀 66W 超级快充充电器", "Honor 66W SuperCharge Charger"),
     129, "66W"),
    ("oneplus", ("一加", "OnePlus"), ("一加 100W SUPERVOOC 充电器", "OnePlus 100W SUPERVOOC Charger"),
     169, "100W"),
)
CASE_STYLES: tuple[tuple[Pair, Pair, float], ...] = (
    # style, material, price
    (("透明防摔", "Clear Shockproof"), ("TPU", "TPU"), 39),
    (("磨砂硅胶", "Matte Silicone"), ("硅胶", "silicone"), 59),
    (("真皮", "Leather"), ("皮革", "leather"), 129),
    (("磁吸MagSafe", "MagSafe Magnetic"), ("TPU", "TPU"), 79),
)
LAPTOPS: tuple[tuple[str, Pair, Pair, float, str, str], ...] = (
    # key, brand, name, price, typical next mouse, sleeve size bought along
    ("x1carbon", ("联想", "Lenovo"), ("联想 ThinkPad X1 Carbon 14英寸", "Lenovo ThinkPad X1 Carbon 14\""),
     9999, "mx", "14"),
    ("macbookair", ("苹果", "Apple"), ("Apple MacBook Air 13英寸 M3", "Apple MacBook Air 13-inch M3"),
     8999, "magic", "13"),
    ("matebook", ("华为", "Huawei"), ("华为 MateBook X Pro 14英寸", "Huawei MateBook X Pro 14\""),
     8999, "huawei", "14"),
    ("xps13", ("戴尔", "Dell"), ("戴尔 XPS 13", "Dell XPS 13"), 7999, "mx", "13"),
    ("redmibook", ("红米", "Redmi"), ("Redmi Book Pro 15 2026", "Redmi Book Pro 15 2026"),
     4999, "xiaomi", "15"),
)
MICE: tuple[tuple[str, Pair, Pair, float], ...] = (
    ("mx", ("罗技", "Logitech"), ("罗技 MX Anywhere 3S 无线鼠标", "Logitech MX Anywhere 3S Wireless Mouse"),
     499),
    ("magic", ("苹果", "Apple"), ("Apple 妙控鼠标", "Apple Magic Mouse"), 649),
    ("huawei", ("华为", "Huawei"), ("华为 蓝牙鼠标 第二代", "Huawei Bluetooth Mouse (2nd Gen)"), 99),
    ("xiaomi", ("小米", "Xiaomi"), ("小米 无线鼠标 Lite", "Xiaomi Wireless Mouse Lite"), 49),
)
SLEEVES: tuple[tuple[str, Pair, Pair, float], ...] = (
    ("13", ("帕克维斯", "Packwise"), ("帕克维斯 13英寸 电脑内胆包 防泼水",
                                     "Packwise 13-inch Laptop Sleeve, Water-Resistant"), 89),
    ("14", ("帕克维斯", "Packwise"), ("帕克维斯 14英寸 电脑内胆包 防泼水",
                                     "Packwise 14-inch Laptop Sleeve, Water-Resistant"), 99),
    ("15", ("帕克维斯", "Packwise"), ("帕克维斯 15.6英寸 电脑内胆包 防泼水",
                                     "Packwise 15.6-inch Laptop Sleeve, Water-Resistant"), 109),
)
COFFEE_MACHINES: tuple[tuple[str, Pair, Pair, float, str], ...] = (
    # key, brand, title, price, the beans (or pods) people buy next
    ("ecam", ("德龙", "De'Longhi"),
     ("德龙 ECAM 全自动意式咖啡机", "De'Longhi ECAM Fully Automatic Espresso Machine"),
     3999, "espresso"),
    ("vertuo", ("Nespresso", "Nespresso"),
     ("Nespresso Vertuo 胶囊咖啡机", "Nespresso Vertuo Capsule Coffee Machine"), 1299, "pods"),
    ("drip", ("小熊", "Bear"), ("小熊 滴漏式美式咖啡机", "Bear Drip Coffee Maker"), 199, "drip"),
)
COFFEE_BEANS: tuple[tuple[str, Pair, Pair, float], ...] = (
    ("espresso", ("山谷", "Valley Roast"), ("山谷 意式浓缩咖啡豆 1kg 深度烘焙",
                                          "Valley Roast Espresso Beans 1kg, Dark Roast"), 129),
    ("pods", ("Nespresso", "Nespresso"), ("Nespresso Vertuo 咖啡胶囊 经典组合 40颗",
                                         "Nespresso Vertuo Coffee Pods, Classic Assortment, 40 pcs"),
     299),
    ("drip", ("云野", "Yunye"), ("云野 云南小粒咖啡豆 中度烘焙 500g",
                                 "Yunye Yunnan Arabica Coffee Beans 500g, Medium Roast"), 69),
)
BOOK_SERIES: tuple[tuple[str, Pair, str, tuple[str, ...], float], ...] = (
    # language, publisher, author, volumes in reading order, price
    ("zh", ("星海出版社", "Starsea Press"), "林远",
     ("《星海彼岸 I：启航》", "《星海彼岸 II：深空》", "《星海彼岸 III：归途》"), 49),
    ("en", ("Lantern Books", "Lantern Books"), "Anna Clarke",
     ("The Ember Chronicles, Book 1: Kindling", "The Ember Chronicles, Book 2: Wildfire",
      "The Ember Chronicles, Book 3: Ashes"), 59),
)
_Product = tuple[str, str, Pair, Pair, float]  # key, leaf, brand, title, price
BASKET_PAIRS: tuple[tuple[_Product, _Product], ...] = (
    # two products usually bought in one order
    (("tent2", "tents", ("山野", "Summit Trail"),
      ("山野 双人户外帐篷 防雨", "Summit Trail 2-Person Waterproof Tent"), 599),
     ("bag2", "sleeping_bags", ("山野", "Summit Trail"),
      ("山野 信封式加厚睡袋", "Summit Trail Envelope Sleeping Bag"), 199)),
    (("tent4", "tents", ("北纬", "North Latitude"),
      ("北纬 四人家庭露营帐篷", "North Latitude 4-Person Family Camping Tent"), 999),
     ("bagdown", "sleeping_bags", ("北纬", "North Latitude"),
      ("北纬 羽绒木乃伊睡袋", "North Latitude Down Mummy Sleeping Bag"), 499)),
    (("tent1", "tents", ("轻行", "Featherline"),
      ("轻行 超轻单人帐篷", "Featherline Ultralight 1-Person Tent"), 799),
     ("bagultra", "sleeping_bags", ("轻行", "Featherline"),
      ("轻行 超轻睡袋 850g", "Featherline Ultralight Sleeping Bag 850 g"), 399)),
    (("wok", "cookware", ("苏泊尔", "Supor"),
      ("苏泊尔 不粘炒锅 32cm", "Supor Non-Stick Wok 32 cm"), 199),
     ("silicone_spatula", "utensils", ("苏泊尔", "Supor"),
      ("苏泊尔 硅胶锅铲 耐高温不伤锅", "Supor Silicone Spatula, Heat-Resistant"), 29)),
    (("steelpan", "cookware", ("双立人", "Zwilling"),
      ("双立人 不锈钢煎锅 28cm", "Zwilling Stainless Steel Frying Pan 28 cm"), 599),
     ("wood_spatula", "utensils", ("双立人", "Zwilling"),
      ("双立人 榉木锅铲", "Zwilling Beechwood Spatula"), 69)),
    (("cleanser_purely", "cleansers", ("清研", "Purely"),
      ("清研 氨基酸温和洁面乳 120g", "Purely Gentle Amino Acid Cleanser 120 g"), 89),
     ("toner_purely", "toners", ("清研", "Purely"),
      ("清研 补水保湿爽肤水 200ml", "Purely Hydrating Toner 200 ml"), 129)),
    (("cleanser_snow", "cleansers", ("雪域", "Snowline"),
      ("雪域 控油洁面泡沫", "Snowline Oil-Control Foaming Cleanser"), 69),
     ("toner_snow", "toners", ("雪域", "Snowline"),
      ("雪域 平衡爽肤水", "Snowline Balancing Toner"), 99)),
    (("cleanser_petal", "cleansers", ("花间集", "Petal Lab"),
      ("花间集 玫瑰洁面啫喱", "Petal Lab Rose Cleansing Gel"), 109),
     ("toner_petal", "toners", ("花间集", "Petal Lab"),
      ("花间集 玫瑰纯露爽肤水", "Petal Lab Rose Water Toner"), 159)),
)

AUTHORS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("林远", "陈默", "苏晴", "周南", "何夕", "沈一", "王澄"),
    ("Anna Clarke", "James Holloway", "Mei Lin", "Tom Reyes", "Sofia Grant", "Daniel Okafor"),
)

# --------------------------------------------------------------------------- users

CITIES_ZH = ("上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆",
             "苏州", "长沙")
CITIES_EN = ("Shanghai", "Beijing", "Hong Kong", "Singapore", "Shenzhen", "London", "Sydney",
             "Vancouver", "San Francisco", "Kuala Lumpur")
AGE_BANDS = (("18-24", 0.2), ("25-34", 0.36), ("35-44", 0.24), ("45-54", 0.12), ("55+", 0.08))
SIGNUP_CHANNELS = (("app", 0.4), ("web", 0.2), ("wechat", 0.25), ("referral", 0.1), ("ads", 0.05))
GENDER_TASTE: dict[str, dict[str, float]] = {  # how much more likely a taste is, by gender
    "female": {"beauty": 3.0, "clothing": 2.0, "home": 1.3},
    "male": {"electronics": 1.8, "computers": 2.0, "sports": 1.5},
}

# --------------------------------------------------------------------------- reviews

ASPECTS: dict[str, Pair] = {
    "quality": ("质量", "quality"),
    "logistics": ("物流", "logistics"),
    "service": ("客服", "customer service"),
    "price": ("价格", "price"),
    "packaging": ("包装", "packaging"),
    "fit": ("尺码", "size/fit"),
    "appearance": ("外观", "appearance"),
    "performance": ("性能/功能", "performance"),
    "authenticity": ("正品", "authenticity"),
    "taste": ("口味", "taste"),
}
ASPECT_WEIGHTS: dict[str, float] = {
    "quality": 3.0, "logistics": 2.5, "service": 1.2, "price": 1.5, "packaging": 1.0, "fit": 2.5,
    "appearance": 1.5, "performance": 2.0, "authenticity": 0.8, "taste": 2.5,
}

# aspect -> polarity -> (Chinese clauses, English clauses)
ASPECT_PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "quality": {
        "positive": (("商品质量不错", "质量很好，做工精细", "做工扎实，用料很足", "质量超出预期"),
                     ("the quality is great", "very well made", "the build quality exceeded my expectations",
                      "solid quality")),
        "neutral": (("质量中规中矩", "做工还行，没什么惊喜", "质量一般般"),
                    ("the quality is okay for what it is", "the quality is average",
                     "build quality is fine, nothing special")),
        "negative": (("质量太差了", "做工粗糙，有明显瑕疵", "用了没几天就坏了"),
                     ("the quality is terrible", "it is poorly made with obvious defects",
                      "it broke after a few days")),
    },
    "logistics": {
        "positive": (("物流速度很快", "发货很快，第二天就到了", "快递给力，隔天就收到了"),
                     ("delivery was fast", "shipping was quick, it arrived the next day",
                      "it arrived earlier than expected")),
        "neutral": (("物流速度一般", "快递不快不慢，四五天到的", "物流还行"),
                    ("delivery took the usual time", "shipping was okay",
                     "it arrived in about five days")),
        "negative": (("物流太慢了，等了一个多星期", "发货很慢，催了好几次", "快递慢得离谱"),
                     ("shipping was painfully slow", "delivery took over a week",
                      "the parcel was delayed again and again")),
    },
    "service": {
        "positive": (("客服态度很好", "客服回复及时，很耐心", "售后服务很贴心"),
                     ("customer service was very helpful", "the seller replied quickly and patiently",
                      "after-sales support was excellent")),
        "neutral": (("客服服务态度一般", "客服回复比较程式化", "客服还可以"),
                    ("customer service was okay", "support replies were a bit generic",
                     "the seller's service was average")),
        "negative": (("客服态度很差", "客服一直不回消息", "售后推来推去，很不负责"),
                     ("customer service was rude", "the seller never answered my messages",
                      "after-sales support was useless")),
    },
    "price": {
        "positive": (("价格实惠，性价比很高", "活动价很划算", "这个价格很值"),
                     ("great value for money", "the price is very reasonable",
                      "a bargain at this price")),
        "neutral": (("价格中规中矩", "价格不算便宜也不算贵", "价格一般，等活动买更好"),
                    ("the price is fair", "not cheap but not expensive either",
                     "the price is average, better to wait for a sale")),
        "negative": (("价格偏贵，不值这个钱", "性价比太低了", "比别家贵不少"),
                     ("it is way overpriced", "not worth the money",
                      "it costs a lot more than elsewhere")),
    },
    "packaging": {
        "positive": (("包装很严实", "包装精美，送人很合适", "包装完好无损"),
                     ("the packaging was solid and secure", "nicely packaged, good as a gift",
                      "it arrived in perfect packaging")),
        "neutral": (("包装很简单", "包装普通，没什么特别", "包装一般"),
                    ("the packaging was basic", "plain packaging", "the packaging was fine")),
        "negative": (("包装破损了", "外箱压坏了，包装太简陋", "包装很差，里面的东西都压变形了"),
                     ("the box arrived damaged", "the packaging was flimsy and crushed",
                      "poor packaging, the contents were damaged")),
    },
    "fit": {
        "positive": (("尺码很标准，穿着合身", "大小刚刚好", "尺码准，按平时的码买就行"),
                     ("it fits true to size", "the size is just right", "it fits perfectly")),
        "neutral": (("尺码稍微偏大一点点", "尺码基本合适", "版型一般，尺码还算准"),
                    ("it runs slightly large", "the fit is okay",
                     "sizing is roughly as expected")),
        "negative": (("尺码严重偏小，穿不上", "尺码不准，大了两个码", "版型很奇怪，穿着不合身"),
                     ("it runs two sizes small", "the sizing is way off",
                      "the cut is strange and it doesn't fit")),
    },
    "appearance": {
        "positive": (("颜值很高，外观很漂亮", "颜色和图片一样好看", "设计很有质感"),
                     ("it looks gorgeous", "the colour is exactly as pictured",
                      "the design feels premium")),
        "neutral": (("外观一般，和图片差不多", "颜色比图片稍暗", "样子中规中矩"),
                    ("it looks about like the photos", "the colour is a bit darker than pictured",
                     "the look is rather plain")),
        "negative": (("外观和图片差距很大", "色差严重", "样子很丑，很廉价的感觉"),
                     ("it looks nothing like the pictures", "the colour is completely off",
                      "it looks cheap")),
    },
    "performance": {
        "positive": (("功能很好用，效果明显", "性能强劲，运行流畅", "用起来非常顺手"),
                     ("it works really well", "performance is smooth and fast",
                      "it does exactly what it promises")),
        "neutral": (("功能一般，够用", "效果一般般", "性能中规中矩"),
                    ("it works, nothing more", "performance is average", "the effect is so-so")),
        "negative": (("功能不好用，经常出问题", "效果很差，完全没用", "性能太差，卡顿严重"),
                     ("it barely works", "performance is laggy and unreliable",
                      "it had no effect at all")),
    },
    "authenticity": {
        "positive": (("正品无疑，验过了", "官方正品，放心购买", "是正品，防伪码能查到"),
                     ("definitely genuine", "an authentic product, the serial number checks out",
                      "100% genuine, same as the official store")),
        "neutral": (("应该是正品吧", "真假不好判断", "和专柜的差不多"),
                    ("it seems genuine, hard to tell", "probably authentic",
                     "can't really tell if it's original")),
        "negative": (("怀疑是假货", "不是正品，和专柜的完全不一样", "防伪码查不到，疑似假货"),
                     ("I suspect it's a fake", "clearly counterfeit",
                      "the serial number doesn't verify, looks fake")),
    },
    "taste": {
        "positive": (("味道很好吃", "口感很棒，很新鲜", "非常好吃，家人都喜欢"),
                     ("it tastes delicious", "very fresh and tasty",
                      "the whole family loves the flavour")),
        "neutral": (("味道一般", "口感还行，没有特别惊艳", "味道中规中矩"),
                    ("the taste is okay", "the flavour is average", "it tastes fine, nothing special")),
        "negative": (("味道很难吃", "不新鲜，有股怪味", "太咸了，不好吃"),
                     ("it tastes awful", "not fresh, it has a strange smell", "far too salty")),
    },
}
CONTRAST_WORDS_ZH = ("但", "不过", "就是")
REVIEW_CLOSINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "positive": (("会回购的！", "推荐购买。", "总体很满意。"),
                 ("Would buy again!", "Recommended.", "Very happy overall.")),
    "neutral": (("总体还行吧。", "凑合用。"), ("Overall it's okay.", "It does the job.")),
    "negative": (("不推荐。", "很失望。"), ("Not recommended.", "Very disappointed.")),
}
