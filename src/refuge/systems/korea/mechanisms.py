"""The twelve mechanisms of the North Korean defection system, each with its seed evidence."""

from ...model.definition import Mechanism
from ...model.provenance import Record, Seed

MECHANISMS = (
    Mechanism(
        "M1",
        "push: food and economic crisis drives crossings",
        (
            Seed("004", "When the Soviet Union collapsed in 1990, however, North Korea lost its largest trading partner"),
            Seed("002", "North Korean defectors crossed the border into China to get food when a severe food crisis hit North Korea from 1995 to 1997."),
            Seed("003", "The collapse of North Korea's food supply in the mid-1990s provoked a massive exodus of North Koreans to China"),
        ),
    ),
    Mechanism(
        "M2",
        "border deterrence: guards, rotation against bribery, lethal force",
        (
            Seed("003", "In 2010-13, there was a massive build-up in security on the Sino-North Korean border."),
            Seed("003", "troops were rotated frequently to make it more difficult for military personnel to form local connections, corrupt or otherwise"),
            Seed("004", "seven defectors were gunned down by North Korean border guards"),
        ),
    ),
    Mechanism(
        "M3",
        "punishment of those sent back: lenient from about 1995, harsh again later",
        (
            Seed("003", "They began to treat those who were caught in China or on the border with remarkable leniency."),
            Seed("003", "sent to a prison camp for a short imprisonment (usually for a couple of months)"),
            Seed("002", "even allowed them to come back into the country without any punishment"),
        ),
    ),
    Mechanism(
        "M4",
        "China's enforcement: illegal migrants, deportations, helpers punished",
        (
            Seed("004", "China, where the vast majority of defectors flee, considers them illegal economic migrants"),
            Seed("004", "who deport as many as 300 defectors per week"),
            Seed("004", "Chinese citizens who provide assistance to them are harshly punished."),
        ),
    ),
    Mechanism(
        "M5",
        "hiding capacity in China bounded by Korean-Chinese host communities",
        (
            Seed("002", "Almost all of them who are residing in China on a long-term basis depend on ethnic Korean Chinese for a living"),
            Seed("002", "the number is most likely to be about 1.5 million"),
        ),
    ),
    Mechanism(
        "M6",
        "onward escape by brokers through third countries or embassies",
        (
            Seed("002", "Reaching South Korea via a third country seems to have become a common method of defection"),
            Seed("004", "Others work to save up enough money to flee to neighboring Thailand, or to make it to a South Korean embassy"),
            Seed("003", "they use brokers in China (who easily smuggle both letters and money)"),
        ),
    ),
    Mechanism(
        "M7",
        "reception and settlement in the South",
        (
            Seed("000", "they are the less fortunate ones experiencing big challenges settling down in South Korean society"),
            Record("5", "Three months' stay in this facility is mandatory"),
        ),
    ),
    Mechanism(
        "M8",
        "feedback: money and news sent home raise others' means and will to leave",
        (
            Seed("000", "each freed North Korean (North Korean defector) rescues another North Korean"),
            Seed("000", "the money that 10,000 North Korean defectors send to their families in North Korea"),
            Seed("003", "most of them keep in contact with their relatives in the North"),
        ),
    ),
    Mechanism(
        "M9",
        "re-defection: the North lures or coerces settled defectors back",
        (
            Seed("001", "the North Korean National Security Agency is now working to lure defectors in South Korea back to North Korea, and has been doing so since last year"),
            Seed("003", "They have featured some former refugees disappointed enough with life in South Korea to return to North Korea."),
        ),
    ),
    Mechanism(
        "M10",
        "counter-propaganda and family punishment as deterrents",
        (
            Seed("001", "the exiling of families of those who do manage to leave, and propaganda rallies to heighten hostility against South Korea"),
            Seed("003", "the North Korean government media began to wage a campaign against defection"),
            Seed("004", "family members who stay behind are often punished if the regime discovers that a relative escaped"),
        ),
    ),
    Mechanism(
        "M11",
        "resettlement outside Korea",
        (
            Seed("004", "which has officially resettled 100 or so North Korean refugees"),
            Record("6", "a total of 886 defectors have disappeared"),
        ),
    ),
    Mechanism(
        "M12",
        "policy levers: aid, refugee status in China, coordinated resettlement, regime collapse",
        (
            Seed("002", "It is necessary to help North Korea to grant its people basic human rights with enough food so that no more North Koreans choose to defect to South Korea."),
            Seed("002", "If Beijing grants refugee status to North Korean defectors"),
            Seed("004", "coordinated with other nations and emphasized resettlement as a humanitarian initiative"),
            Seed("000", "contingency plans in case of a massive defection of North Koreans"),
        ),
    ),
)
