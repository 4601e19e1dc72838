"""Chinese names for the network generator: cities, towns, parks, substations, customers.

Known names (安阳 and its towns, 安阳高新技术产业开发区) are used for the embedded Anyang
district; everything else is composed from syllable pools, so the names read naturally but
do not claim to be real places.
"""

from __future__ import annotations

import numpy as np

KNOWN_TOWNS: dict[str, tuple[str, ...]] = {
    "安阳": ("水冶镇", "白璧镇", "辛村镇", "崔家桥镇", "曲沟镇", "吕村镇", "柏庄镇", "铜冶镇"),
}
KNOWN_PARKS: dict[str, str] = {"安阳": "安阳高新技术产业开发区"}
KNOWN_SUBSTATIONS: dict[str, tuple[str, ...]] = {
    "安阳": ("文峰", "殷都", "北关", "龙安", "彰德", "洹河", "人民", "光明", "梅园", "铁西"),
}

_CITY_FIRST = "安宁平丰兴华新永长庆临清汝洛淮商许汤林滑濮柘鄢虞登巩荥偃宜嵩伊栾泌唐息固"
_CITY_SECOND = "阳州丘城平陵川乡原昌水口山封邑"
_TOWN_FIRST = "东西南北大小高马王李张刘杨柳石白黄青红金辛崔曲吕柏铜"
_TOWN_SECOND = "庄集店桥营寨屯河岗坡寺湖园塘楼堡"
_URBAN_SUBSTATIONS = (
    "人民", "光明", "建设", "朝阳", "红旗", "东风", "向阳", "中州", "新华", "解放",
    "胜利", "和平", "紫薇", "梅园", "文昌", "中华", "银杏", "迎宾", "德隆", "红星",
    "灯塔", "南关", "北郊", "滨河", "学府", "长江", "黄河", "金桥", "振兴", "永和",
    "世纪", "博物", "体育", "文化", "站前", "铁北", "河西", "东湖", "凤凰", "锦绣",
)  # fmt: skip
_RURAL_SUBSTATIONS = (
    "高庄", "安丰", "都里", "田村", "郭村", "韩陵", "北郭", "磊口", "伦掌", "蒋村",
    "瓦店", "马投", "许家", "宝莲", "洪河", "永安", "丰收", "牛村", "孙庄", "前进",
)  # fmt: skip
_INDUSTRIES = (
    "纺织", "机械", "食品", "钢铁", "建材", "化工", "物流", "医药", "电子", "包装",
    "塑业", "农业科技", "冷链", "新材料", "汽车配件", "造纸", "家具", "面业",
)  # fmt: skip
ROMAN = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ")

# Roads (for the corridor layer and, later, an address gazetteer). Anyang's first names are
# its well-known streets; the pool composes the rest ("人民" + "路").
KNOWN_ROADS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "安阳": (
        ("文峰大道", "人民大道", "中华路", "解放大道", "文明大道", "光明路", "红旗路"),
        ("平原路", "彰德路", "东风路", "德隆街", "北关街", "灯塔路", "殷都路", "朝霞路",
         "永明路", "相州路", "健康路", "友谊路", "育才路", "紫薇街", "梅园街", "钢城路"),
    ),
}  # fmt: skip
KNOWN_RIVERS: dict[str, str] = {"安阳": "洹河"}
KNOWN_RAILWAYS: dict[str, str] = {"安阳": "京广铁路"}
_ROAD_STEMS = (
    "人民", "解放", "建设", "中华", "文化", "朝阳", "红旗", "光明", "和平", "胜利",
    "幸福", "迎宾", "新华", "长江", "黄河", "平安", "友谊", "团结", "振兴", "发展",
    "富强", "民主", "文明", "永安", "华夏", "中州", "健康", "育才", "学府", "体育",
    "工业", "商城", "紫薇", "银杏", "梧桐", "桃园", "海河", "淮河", "汉江", "泰山",
    "嵩山", "太行", "华山", "衡山", "兴业", "兴华", "开元", "东风", "向阳", "红星",
    "站前", "滨河", "湖滨", "凤凰", "锦绣", "金桥", "银河", "宏达", "安居", "康宁",
    "春晓", "秋实", "丰收", "新村", "园林", "科技", "创业", "中山", "北京", "上海",
)  # fmt: skip
_ROAD_PREFIXES = ("东", "西", "南", "北", "新", "中")
_RIVERS = (
    "卫河", "淇河", "漳河", "汤河", "羑河", "洪河", "沙河", "颍河", "汝河", "贾鲁河",
    "双洎河", "清水河", "惠济河", "涡河", "唐河", "白河", "伊河", "洛河", "涧河", "蟒河",
    "沁河", "丹河", "澧河", "灰河", "北汝河", "金堤河", "马颊河", "史河", "浉河", "竹竿河",
)  # fmt: skip
_RAILWAYS = (
    "京广铁路", "京九铁路", "陇海铁路", "焦柳铁路", "宁西铁路", "新荷铁路", "漯阜铁路",
    "侯月铁路", "汤鹤铁路", "安林铁路", "新月铁路", "宁西二线", "郑万高铁", "郑渝高铁",
)  # fmt: skip


class NameBook:
    """Hands out unique names (per kind) deterministically from the generator's RNG."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def _unique(self, candidate: str, prefix: str) -> str:
        name = candidate
        if name in self._used:
            name = prefix + candidate
        k = 2
        while name in self._used:
            name = f"{prefix}{candidate}{k}"
            k += 1
        self._used.add(name)
        return name

    def _compose(self, first: str, second: str, suffix: str) -> str:
        for _ in range(200):
            a = first[int(self._rng.integers(len(first)))]
            b = second[int(self._rng.integers(len(second)))]
            name = a + b + suffix
            if name not in self._used:
                self._used.add(name)
                return name
        return self._unique(a + b + suffix, "新")

    def city(self, given: str | None) -> str:
        if given:
            return self._unique(given, "新")
        return self._compose(_CITY_FIRST, _CITY_SECOND, "")

    def towns(self, city: str, n: int) -> list[str]:
        known = [t for t in KNOWN_TOWNS.get(city, ()) if t not in self._used]
        out: list[str] = []
        for i in range(n):
            if i < len(known):
                out.append(self._unique(known[i], city))
            else:
                out.append(self._compose(_TOWN_FIRST, _TOWN_SECOND, "镇"))
        return out

    def park(self, city: str) -> str:
        if city in KNOWN_PARKS:
            return self._unique(KNOWN_PARKS[city], city)
        kind = "高新技术产业开发区" if self._rng.random() < 0.5 else "经济技术开发区"
        return self._unique(f"{city}{kind}", city)

    def substation(self, city: str, kind: str, town: str | None, k: int) -> str:
        """A substation base name (without 变): known/urban pool, town name, or rural pool."""
        if town is not None:
            base = town.removesuffix("镇").removesuffix("乡")
        elif kind == "cable":
            known = KNOWN_SUBSTATIONS.get(city, ())
            pool = known + tuple(n for n in _URBAN_SUBSTATIONS if n not in known)
            base = next((p for p in pool if p not in self._used), pool[k % len(pool)])
        else:
            start = int(self._rng.integers(len(_RURAL_SUBSTATIONS)))
            order = _RURAL_SUBSTATIONS[start:] + _RURAL_SUBSTATIONS[:start]
            base = next((p for p in order if p not in self._used), order[0])
        return self._unique(base, city[:1])

    def customer(self, place: str) -> str:
        ind = _INDUSTRIES[int(self._rng.integers(len(_INDUSTRIES)))]
        return f"{place}{ind}有限公司"


class RoadNames:
    """Road, river and railway names of one city: distinct within the city, deterministic."""

    def __init__(self, rng: np.random.Generator, city: str) -> None:
        self._rng = rng
        self._city = city
        self._used: set[str] = set()
        known = KNOWN_ROADS.get(city, ((), ()))
        self._known_main = list(known[0])
        self._known_minor = list(known[1])
        self._stems = [_ROAD_STEMS[int(i)] for i in rng.permutation(len(_ROAD_STEMS))]

    def _take(self, name: str) -> str | None:
        if name in self._used:
            return None
        self._used.add(name)
        return name

    def street(self, main: bool, family: int) -> str:
        """A street name: ``大道`` for a main road, ``路`` / ``街`` by lattice direction."""
        known = self._known_main if main else self._known_minor
        while known:
            got = self._take(known.pop(0))
            if got is not None:
                return got
        suffix = "大道" if main else ("路", "街")[family % 2]
        for prefix in ("", *_ROAD_PREFIXES):
            for stem in self._stems:
                got = self._take(f"{prefix}{stem}{suffix}")
                if got is not None:
                    return got
        k = 2
        while True:
            got = self._take(f"{self._stems[0]}{k}{suffix}")
            if got is not None:
                return got
            k += 1

    def highway(self, a: str, b: str) -> str:
        """A main road between two places, named by their first characters (安水公路)."""
        base = f"{a[:1]}{b[:1]}公路"
        got = self._take(base)
        k = 2
        while got is None:
            got = self._take(f"{a[:1]}{b[:1]}{k}号公路")
            k += 1
        return got

    def river(self) -> str:
        if self._city in KNOWN_RIVERS:
            return self._take(KNOWN_RIVERS[self._city]) or KNOWN_RIVERS[self._city]
        return self._pick(_RIVERS)

    def railway(self) -> str:
        if self._city in KNOWN_RAILWAYS:
            return self._take(KNOWN_RAILWAYS[self._city]) or KNOWN_RAILWAYS[self._city]
        return self._pick(_RAILWAYS)

    def _pick(self, pool: tuple[str, ...]) -> str:
        start = int(self._rng.integers(len(pool)))
        for k in range(len(pool)):
            got = self._take(pool[(start + k) % len(pool)])
            if got is not None:
                return got
        return pool[start]
