"""Drivers of the North Korean system: the history that moves it, as knots by decimal year.

Values are indices (1 = the level of a reference period named in each label)
unless a unit says otherwise. History runs to the end of the record (2025);
after its last knot each driver holds its value, so the baseline is today's
policies held steady. Policy drivers (aid, refugee status, at-risk inflow) are
zero in the baseline: they are what levers move. The North's border
(``north_border_closure``) and movement through China (``china_closure``) are
two drivers: the North sealed its border in January 2020 and has kept it
sealed, while China's pandemic controls stopped movement from 2020 to its
reopening in January 2023. Deportation from China follows China's own
enforcement (``china_enforcement``), which neither closure touches.
"""

from ...model.definition import Driver
from ...model.provenance import Assumption, Record, Seed

#: The driver no source measures: inferred by calibration as a log walk drawn back to a calibrated level (see
#: ``refuge.systems.korea.calibration.latent``).
ROUTE_PERMEABILITY = "route_permeability"
#: Likewise inferred: how much more than the structure says the broker route carries women rather than men.
ROUTE_FEMALE_TILT = "route_female_tilt"
#: The latent drivers, in the order of the state the calibration filters (``calibration.latent``).
LATENT = (ROUTE_PERMEABILITY, ROUTE_FEMALE_TILT)

#: When the dated evidence behind a knot first appeared, as a decimal year (``Driver.published``): a forecast made
#: before then does not know the knot. Seeds 002 (7 May 2002), 001 (November 2013), 003 (6 April 2014);
#: EVIDENCE.md §9's Chosun Ilbo of 26 January 2010 (the May 2008 orders), Los Angeles Times of 5 January 2012
#: (the 2012 crackdown), Daily NK of January 2009 (the Olympics crackdown), Korea Herald of 5 January 2018 (the
#: 2015 fences); §4a's Newsweek Japan of May 2017 (the 2017 fees) and KBS of 2024 (the fee before 2020); §4b's
#: Washington Post of 17 November 2007 (the Thailand route).
CHOSUN_2010, LA_TIMES_2012, DAILY_NK_2009, KOREA_HERALD_2018 = 2010.07, 2012.01, 2009.05, 2018.01
SEED_001, SEED_003, NEWSWEEK_2017, KBS_2024, WASHINGTON_POST_2007 = 2013.86, 2014.26, 2017.4, 2024.0, 2007.88

DRIVERS = (
    Driver(
        "food_crisis",
        "food and economic crisis (1 = the famine of 1996-98)",
        {1990: 0.15, 1993: 0.35, 1995: 0.9, 1996: 1.0, 1998: 1.0, 2000: 0.6, 2003: 0.45, 2008: 0.4, 2011: 0.35, 2014: 0.25},
        (
            Seed("004", "When the Soviet Union collapsed in 1990, however, North Korea lost its largest trading partner"),
            Seed("002", "a severe food crisis hit North Korea from 1995 to 1997"),
            Record("9", "Famine (\"Arduous March\")"),
            Seed("003", "palpable economic improvements at home"),
        ),
        published={2003: SEED_003, 2008: SEED_003, 2011: SEED_003, 2014: SEED_003},  # the recovery: seed 003 only
    ),
    Driver(
        "border_security",
        "guards on the Tumen and Yalu (1 = after the 2010-13 build-up)",
        {1990: 0.3, 2006.5: 0.3, 2008.4: 0.5, 2010: 0.5, 2013: 1.0, 2015.5: 1.0, 2016: 1.15},
        (
            Seed("003", "In 2010-13, there was a massive build-up in security on the Sino-North Korean border."),
            Record("9", "Kim Jong-il tightens border; shoot-or-10-years order (May 2008)"),
            Record("9", "NK adds high-tension wire fences on Tumen"),
        ),
        published={2008.4: CHOSUN_2010, 2010: CHOSUN_2010, 2013: SEED_003, 2016: KOREA_HERALD_2018},
    ),
    Driver(
        "lethal_force",
        "orders to shoot at the border (1 = shoot on sight, 2012)",
        {1990: 0.2, 2008.3: 0.2, 2008.4: 0.6, 2011.9: 0.6, 2012.0: 1.0, 2020.0: 1.0, 2020.7: 1.5},
        (
            Record("9", "ordered officials in May 2008 to shoot defectors or imprison them for 10 years"),
            Record("9", "border guards have begun shooting down would-be defectors"),
            Seed("004", "seven defectors were gunned down by North Korean border guards"),
            Record("9", "introduced a new buffer zone, one or two kilometers up on the Chinese border"),
        ),
        published={2008.4: CHOSUN_2010, 2012.0: LA_TIMES_2012},
    ),
    Driver(
        "punishment",
        "punishment of those sent back (1 = long camp terms)",
        {1990: 0.8, 1995: 0.8, 1996: 0.2, 2007.5: 0.2, 2008.4: 0.5, 2011: 0.6, 2012: 0.9},
        (
            Seed("003", "around 1995 the North Korean authorities changed their policy toward defections"),
            Seed("003", "sent to a prison camp for a short imprisonment (usually for a couple of months)"),
            Seed("002", "even allowed them to come back into the country without any punishment"),
            Record("9", "ordered officials in May 2008 to shoot defectors or imprison them for 10 years"),
            Record("9", "border guards have begun shooting down would-be defectors"),
        ),
        published={2008.4: CHOSUN_2010, 2011: LA_TIMES_2012, 2012: LA_TIMES_2012},  # 2011 rises towards 2012
        bounds=(0.0, 1.0),  # return home goes as 1 - punishment: 1 is the harshest it can be
    ),
    Driver(
        "counter_propaganda",
        "campaign against defection and family punishment (1 = from 2012)",
        {1990: 0.2, 2010: 0.2, 2012: 1.0},
        (
            Seed("003", "the North Korean government media began to wage a campaign against defection"),
            Seed("001", "the exiling of families of those who do manage to leave"),
        ),
        published={2012: SEED_001},
    ),
    Driver(
        "china_enforcement",
        "China's hunt for North Koreans (1 = after the spring 2001 crackdown)",
        {1990: 0.3, 1998.9: 0.4, 1999.1: 0.7, 2001.2: 0.7, 2001.4: 1.0, 2008.4: 1.0, 2008.6: 1.3, 2009: 1.0,
         2023.5: 1.0, 2023.6: 3.0, 2023.8: 3.0, 2023.9: 1.5},
        (
            Seed("004", "who deport as many as 300 defectors per week"),
            Record("9", "Chinese policy shift → more forced returns (USCR)"),
            Record("3", "2001년 봄 중국이 단속과 송환을 강화한 뒤 6월과 7월에 6,000명이 체포"),
            Record("9", "China crackdown; H1 ~1,700 vs H2 ~1,100 arrivals"),
            Record("3", "on 29 August 2023, 80 North Koreans were forcibly repatriated"),
            Record("3", "a large-scale repatriation of more than 500 defectors was carried out on Oct. 9"),
            Record("9", "The Anti-Espionage Law has been in effect since last July."),
        ),
        published={2008.6: DAILY_NK_2009},
    ),
    Driver(
        "broker_network",
        "reach of broker routes out of China (1 = the Thailand route of 2007 on)",
        {1990: 0.01, 1997: 0.02, 1999: 0.06, 2002: 0.4, 2004: 0.8, 2007: 1.0},
        (
            Seed("002", "Reaching South Korea via a third country seems to have become a common method of defection"),
            Record("4b", "Most North Korean refugees use a route that runs from China to Laos, then to Thailand."),
            Record("4b", "The number of North Koreans who escaped through Thailand in 2004 was 46"),
            Record("4a", "A low-budget escape through China via Thailand to Seoul … can cost less than $2,000"),
        ),
        # the route's reach from 2004 on rests on the Thailand route, first dated in November 2007
        published={2004: WASHINGTON_POST_2007, 2007: WASHINGTON_POST_2007},
    ),
    Driver(
        "broker_cost",
        "price of a broker (1 = the fee of 2008)",
        {1990: 1.0, 2009: 1.0, 2010.9: 2.0, 2014: 2.0, 2017: 3.5, 2019.9: 4.0, 2023.5: 4.0, 2024.5: 20.0},
        (
            Record("4a", "연평도 도발 사태 이후 … 탈북비용이 두배로 오른 것으로"),
            Record("4a", "2014년 탈북 비용은 4000달러 선이었지만, 2017년에는 1만5000달러"),
            Record("4a", "around $1,700 per person until the 2010s … rose to $17,000 and recently skyrocketed to $85,000"),
            Assumption("$15,000 in 2017 is 3.5 on this scale, so $17,000 before 2020 is 4 and $85,000 in 2024 is 20: "
                       "a compressed scale, not the dollars' ($4,000 in 2014 is 2 on it); the dollars' own scale fit "
                       "no better and projected worse (docs/calibration.md, 'Tried and not shipped')"),
        ),
        published={2014: NEWSWEEK_2017, 2017: NEWSWEEK_2017, 2019.9: KBS_2024, 2023.5: KBS_2024},  # 2023.5 holds 2019.9
    ),
    Driver(
        ROUTE_PERMEABILITY,
        "how open the broker route from the North is, beyond network and fee (1 = as the structure says)",
        {1990: 1.0},
        (
            Seed("003", "In 2010-13, there was a massive build-up in security on the Sino-North Korean border."),
            Record("4c", "현재 평균 1년6개월 정도인 것으로 조사됐습니다"),
            Assumption("not measured by any source: calibration infers it year by year from the record as a log "
                       "walk with an estimated step, drawn back each year towards a level calibrated with it; "
                       "runs draw each member's path from the posterior and continue it by the same walk after "
                       "the record ends"),
        ),
    ),
    Driver(
        ROUTE_FEMALE_TILT,
        "how much more the broker route carries women than men, beyond the structure (ratio; 1 = as it says)",
        {1990: 1.0},
        (
            Record("8", "여성 입국자 비율은 2000년 42.3%에서 2001년 49.6%, 작년 53.2%"),
            Record("8", "the percentage of women reached 78% in 2007 and 2008"),
            Assumption("the share of women among arrivals moved from 12% to 85% and back to 37% in 2021, more "
                       "than attempts by sex explain; no source measures the brokers' market by sex year by year, "
                       "so calibration infers the ratio as a log random walk"),
        ),
    ),
    Driver(
        "reception_capacity",
        "places for simultaneous reception in the South (Hanawon)",
        {1990: 150, 2003.7: 150, 2003.8: 300, 2008.8: 300, 2008.9: 600, 2009.9: 600, 2010: 1000, 2012.8: 1000, 2012.9: 1500},
        (
            Record("5", "동시 수용인원은 300명에서 600명으로"),
            Record("5", "탈북자 1천명을 동시에 교육할 수 있게 된다"),
            Record("5", "화천 제2 하나원은 500명의 탈북자를 한꺼번에 수용할 수 있습니다"),
        ),
        unit="people",
    ),
    Driver(
        "resettlement_abroad",
        "resettlement outside Korea open (1 = the US programme from 2006)",
        {2005.9: 0.0, 2006.0: 1.0},
        (
            Record("7", "9 for 2006, 22 for 2007, 37 for 2008, 25 for 2009 and 8 for 2010"),
            Seed("004", "which has officially resettled 100 or so North Korean refugees"),
        ),
    ),
    Driver(
        "redefection_campaign",
        "the North's campaign to lure defectors back (1 = 2012-13)",
        {2010.9: 0.0, 2011.5: 1.0, 2013.9: 1.0, 2015: 0.3},
        (
            Seed("001", "is now working to lure defectors in South Korea back to North Korea, and has been doing so since last year"),
            Record("6", "2001년에 1명, 2012년과 2013년 각 7명, 2014년 1명"),
        ),
        published={2011.5: SEED_001},
    ),
    Driver(
        "aid",
        "aid to the North beyond its history (0 = as it was; 1 = enough to end hunger)",
        {1990: 0.0},
        (Seed("002", "The ROK government and related bodies should continue food and economic assistance to North Korea"),),
        bounds=(0.0, 1.0),
    ),
    Driver(
        "refugee_status",
        "China recognises North Koreans as refugees (0 = no, 1 = fully)",
        {1990: 0.0},
        (Seed("002", "If Beijing grants refugee status to North Korean defectors"),),
        bounds=(0.0, 1.0),
    ),
    Driver(
        "north_border_closure",
        "the North seals its border: crossings out and returns in stop (0 = open, 1 = sealed)",
        {1990: 0.0, 2020.0: 0.0, 2020.1: 0.95},
        (
            Record("9", "North Korea, which closed its border in January 2020"),
            Record("9", "introduced a new buffer zone, one or two kilometers up on the Chinese border"),
            Record("4c", "북한에서 바로 넘어온 인원은 한 자릿수에 그친 것으로 파악됐습니다"),
            Assumption("sealed to 5% of its former traffic: direct arrivals from the North in single digits by 2025"),
        ),
        bounds=(0.0, 1.0),
    ),
    Driver(
        "china_closure",
        "movement through China to third countries stops (0 = open, 1 = stopped)",
        {1990: 0.0, 2020.15: 0.0, 2020.3: 0.9, 2022.9: 0.9, 2023.1: 0.0},
        (
            Record("9", "2020년 229명, 2021년 63명, 2022년 67명으로 감소했습니다"),
            Record("9", "2023년도부터 200명 안팎으로 이어지고 있다"),
            Assumption("China's pandemic controls (spring 2020 to its reopening in January 2023) stopped 90% of "
                       "movement on the roads to third countries: 2020's arrivals came mostly in its first quarter "
                       "(quarters 135/12/48/34); EVIDENCE.md has no source for the controls themselves"),
        ),
        bounds=(0.0, 1.0),
    ),
    Driver(
        "at_risk_inflow",
        "people newly reaching the border provinces, per week (regime collapse)",
        {1990: 0.0},
        (Seed("000", "contingency plans in case of a massive defection of North Koreans"),),
        unit="people per week",
        bounds=(0.0, 500_000.0),  # the North's whole population (about 26 million) in a year
    ),
)
