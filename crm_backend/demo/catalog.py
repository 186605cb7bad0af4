"""Fixed reference data: rewards, agents, products, names (docs/contract.md "Demo data")."""

from __future__ import annotations

from decimal import Decimal

# code, name_zh, name_en, cost_points, stock (None = unlimited)
REWARDS: list[tuple[str, str, str, int, int | None]] = [
    ("COUPON10", "10元优惠券", "CNY 10 coupon", 500, None),
    ("COUPON50", "50元优惠券", "CNY 50 coupon", 2000, None),
    ("MUG", "品牌马克杯", "Kefu mug", 1200, 50),
    ("VIPLOUNGE", "机场贵宾厅体验券", "Airport VIP lounge pass", 5000, 5),
    ("SOLDOUT", "限量帆布袋（已售罄）", "Limited tote bag (sold out)", 300, 0),
]

# username, password, display_name, role
AGENTS: list[tuple[str, str, str, str]] = [
    ("agent1", "agent1-pass", "小林 Lin", "agent"),
    ("agent2", "agent2-pass", "小周 Zhou", "agent"),
    ("supervisor", "supervisor-pass", "赵主管 Supervisor Zhao", "supervisor"),
    ("admin", "admin-pass", "管理员 Admin", "admin"),
]

# sku, name_zh, name_en, price
PRODUCTS: list[tuple[str, str, str, Decimal]] = [
    ("TEA-001", "西湖龙井茶礼盒", "West Lake Longjing tea gift box", Decimal("268.00")),
    ("TEA-002", "云南普洱茶饼", "Yunnan Pu'er tea cake", Decimal("158.00")),
    ("HOME-001", "真丝枕套", "Silk pillowcase", Decimal("199.00")),
    ("HOME-002", "羽绒被", "Down duvet", Decimal("899.00")),
    ("HOME-003", "陶瓷茶具套装", "Ceramic tea set", Decimal("329.00")),
    ("ELEC-001", "无线蓝牙耳机", "Wireless Bluetooth earbuds", Decimal("499.00")),
    ("ELEC-002", "智能手环", "Smart fitness band", Decimal("249.00")),
    ("ELEC-003", "便携充电宝", "Portable power bank", Decimal("129.00")),
    ("ELEC-004", "降噪头戴耳机", "Noise-cancelling headphones", Decimal("1299.00")),
    ("BEAU-001", "保湿面霜", "Moisturising face cream", Decimal("356.00")),
    ("BEAU-002", "防晒霜", "Sunscreen SPF50", Decimal("138.00")),
    ("FASH-001", "羊绒围巾", "Cashmere scarf", Decimal("599.00")),
    ("FASH-002", "运动跑鞋", "Running shoes", Decimal("459.00")),
    ("FASH-003", "双肩背包", "Backpack", Decimal("299.00")),
    ("FOOD-001", "坚果礼盒", "Mixed nuts gift box", Decimal("99.00")),
    ("FOOD-002", "进口咖啡豆", "Imported coffee beans", Decimal("118.00")),
    ("KIDS-001", "儿童绘本套装", "Children's picture book set", Decimal("168.00")),
    ("SPORT-001", "瑜伽垫", "Yoga mat", Decimal("89.00")),
]

CARRIERS = ["顺丰速运 SF Express", "京东物流 JD Logistics", "中通快递 ZTO Express", "EMS"]
CITIES = [("上海", "Shanghai"), ("北京", "Beijing"), ("广州", "Guangzhou"), ("深圳", "Shenzhen"), ("杭州", "Hangzhou"),
          ("成都", "Chengdu"), ("武汉", "Wuhan"), ("南京", "Nanjing"), ("西安", "Xi'an"), ("重庆", "Chongqing")]

# (hanzi, pinyin)
SURNAMES = [("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
            ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"),
            ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"),
            ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"), ("许", "Xu"),
            ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao")]
GIVEN = [("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
         ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"),
         ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"), ("霞", "Xia"), ("平", "Ping"),
         ("刚", "Gang"), ("桂英", "Guiying"), ("晓东", "Xiaodong"), ("雪", "Xue"), ("婷", "Ting"), ("浩", "Hao"),
         ("宇轩", "Yuxuan"), ("子涵", "Zihan"), ("欣怡", "Xinyi"), ("梓萱", "Zixuan"), ("俊杰", "Junjie"),
         ("思远", "Siyuan"), ("佳怡", "Jiayi"), ("志强", "Zhiqiang"), ("建华", "Jianhua"), ("海燕", "Haiyan")]
EN_FIRST = ["James", "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Ethan", "Mia", "Lucas",
            "Charlotte", "Mason", "Amelia", "Henry", "Harper", "Daniel", "Grace", "Samuel", "Chloe", "David",
            "Hannah", "Michael", "Sarah", "Thomas", "Laura", "Ryan", "Jessica", "Benjamin", "Zoe"]
EN_LAST = ["Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Anderson", "Thomas", "Jackson",
           "White", "Harris", "Martin", "Thompson", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright",
           "Scott", "Green", "Baker", "Adams", "Nelson", "Mitchell", "Roberts", "Turner", "Phillips"]
