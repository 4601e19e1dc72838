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
