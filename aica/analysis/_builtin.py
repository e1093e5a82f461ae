# ruff: noqa: RUF001  (Russian phrases: Cyrillic letters that look Latin are meant)
"""The shipped profiles, as the JSON a user would save (validated by ``profiles.BUILTIN``).

Phrases are what agents in contact centres say, in English and Russian; they are matched
after normalisation and with a little tolerance (``aica.analysis.matching``), so one
spelling of each is enough. Windows are generous enough for a short IVR prompt or a slow
pick-up before the agent speaks.
"""

from __future__ import annotations

from typing import Any


def _phrase(
    key: str, description: str, en: list[str], ru: list[str], **options: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "description": description,
        "kind": "phrase",
        "phrases": {"en": en, "ru": ru},
        **options,
    }


def _metric(
    key: str, description: str, metric: str, operator: str, threshold: float, **options: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "description": description,
        "kind": "metric",
        "metric": metric,
        "operator": operator,
        "threshold": threshold,
        **options,
    }


def _first(seconds: float) -> dict[str, Any]:
    return {"position": "first", "seconds": seconds}


def _last(seconds: float) -> dict[str, Any]:
    return {"position": "last", "seconds": seconds}


RUDE_EN = [
    "shut up",
    "that's not my problem",
    "not my problem",
    "that's your problem",
    "it's your own fault",
    "are you stupid",
    "you're stupid",
    "stupid",
    "idiot",
    "calm down",
    "i don't care",
    "deal with it",
    "stop whining",
    "what's wrong with you",
]
RUDE_RU = [
    "заткнитесь",
    "замолчите",
    "это не моя проблема",
    "это ваши проблемы",
    "мне все равно",
    "сами виноваты",
    "успокойтесь",
    "идиот",
    "дурак",
    "тупой",
]
PACE = _metric("pace", "Speak at a measured pace", "agent_wpm", "lte", 180)
FAREWELL_EN = [
    "have a great day",
    "have a nice day",
    "have a good day",
    "have a wonderful day",
    "have a good evening",
    "thank you for calling",
    "thanks for calling",
    "thank you for your time",
    "goodbye",
    "take care",
    "bye",
]
FAREWELL_RU = [
    "всего доброго",
    "всего хорошего",
    "хорошего дня",
    "хорошего вечера",
    "до свидания",
    "спасибо за звонок",
    "спасибо за обращение",
    "спасибо за ваше время",
]

GENERAL: dict[str, Any] = {
    "key": "general",
    "name": "General call quality",
    "description": (
        "Customer-service scorecard: a proper greeting, understanding and resolving the "
        "issue, courteous and well-paced conversation, a polite close."
    ),
    "categories": [
        {
            "key": "greeting",
            "name": "Greeting",
            "weight": 20,
            "criteria": [
                _phrase(
                    "greet",
                    "Greet the customer",
                    [
                        "thank you for calling",
                        "thanks for calling",
                        "thank you for your call",
                        "thank you for contacting",
                        "welcome to",
                        "good morning",
                        "good afternoon",
                        "good evening",
                        "hello",
                        "hi there",
                    ],
                    [
                        "спасибо за звонок",
                        "спасибо за ваш звонок",
                        "спасибо что позвонили",
                        "спасибо за обращение",
                        "доброе утро",
                        "добрый день",
                        "добрый вечер",
                        "здравствуйте",
                        "приветствую",
                    ],
                    window=_first(15),
                    weight=2,
                ),
                _phrase(
                    "introduce",
                    "Introduce yourself by name",
                    [
                        "my name is",
                        "my name's",
                        "you're speaking with",
                        "you are speaking with",
                        "you've reached",
                        "you have reached",
                        "this is your agent",
                    ],
                    ["меня зовут", "вас приветствует", "с вами говорит", "на связи", "моё имя"],
                    window=_first(30),
                ),
                _phrase(
                    "offer_help",
                    "Offer help",
                    [
                        "how can i help",
                        "how may i help",
                        "how can i assist",
                        "how may i assist",
                        "what can i do for you",
                        "how can we help",
                    ],
                    [
                        "чем могу помочь",
                        "чем я могу помочь",
                        "чем могу быть полезен",
                        "чем могу быть полезна",
                        "слушаю вас",
                        "какой у вас вопрос",
                    ],
                    window=_first(45),
                ),
            ],
        },
        {
            "key": "problemResolution",
            "name": "Problem resolution",
            "weight": 35,
            "criteria": [
                _phrase(
                    "investigate",
                    "Look into the customer's issue",
                    [
                        "let me check",
                        "let me look into",
                        "let me take a look",
                        "let me pull up your account",
                        "i can see that",
                        "i understand",
                        "can you confirm",
                        "could you tell me",
                        "could you please provide",
                    ],
                    [
                        "давайте проверю",
                        "сейчас проверю",
                        "сейчас посмотрю",
                        "давайте посмотрим",
                        "я понимаю",
                        "я вижу что",
                        "уточните пожалуйста",
                        "подскажите пожалуйста",
                        "назовите пожалуйста",
                    ],
                ),
                _phrase(
                    "resolve",
                    "Resolve the issue and say what was done",
                    [
                        "i have resolved",
                        "i've resolved",
                        "i have processed",
                        "i've processed your refund",
                        "i have refunded",
                        "i will refund",
                        "i'll refund",
                        "i have fixed",
                        "the issue is fixed",
                        "it has been fixed",
                        "the problem is solved",
                        "the issue is resolved",
                        "i have updated",
                        "i've updated your",
                        "i have reset",
                        "i have sent",
                        "you will receive",
                        "you should receive",
                    ],
                    [
                        "я решил",
                        "я решила",
                        "проблема решена",
                        "вопрос решен",
                        "я оформил возврат",
                        "я оформила возврат",
                        "деньги вернутся",
                        "я исправил",
                        "я исправила",
                        "я обновил",
                        "я обновила",
                        "я отправил",
                        "я отправила",
                        "все готово",
                        "вы получите",
                    ],
                    weight=2,
                ),
                _phrase(
                    "confirm_resolution",
                    "Check that the issue is resolved",
                    [
                        "does that resolve",
                        "does that solve",
                        "does that help",
                        "does that answer your question",
                        "is that okay",
                        "is everything clear",
                        "have i answered",
                        "is it working now",
                    ],
                    [
                        "это решает ваш вопрос",
                        "я ответил на ваш вопрос",
                        "я ответила на ваш вопрос",
                        "вам все понятно",
                        "вас устраивает",
                        "теперь работает",
                        "это помогло",
                    ],
                ),
            ],
        },
        {
            "key": "professionalism",
            "name": "Professionalism",
            "weight": 25,
            "criteria": [
                _phrase(
                    "courteous",
                    "Stay courteous: no rude or dismissive language",
                    RUDE_EN,
                    RUDE_RU,
                    forbidden=True,
                    compliance=True,
                    weight=2,
                ),
                _phrase(
                    "polite",
                    "Use polite language",
                    [
                        "please",
                        "thank you",
                        "i apologize",
                        "i'm sorry",
                        "i am sorry",
                        "sorry for",
                        "my pleasure",
                        "you're welcome",
                        "i appreciate",
                    ],
                    [
                        "пожалуйста",
                        "спасибо",
                        "извините",
                        "приношу извинения",
                        "благодарю",
                        "будьте добры",
                    ],
                ),
                PACE,
                _metric(
                    "overtalk",
                    "Let the customer finish: avoid talking over them",
                    "overtalk",
                    "lte",
                    10,
                ),
                _metric(
                    "dead_air",
                    "Avoid long silences: keep the customer informed",
                    "longest_silence",
                    "lte",
                    30,
                ),
            ],
        },
        {
            "key": "closing",
            "name": "Closing",
            "weight": 20,
            "criteria": [
                _phrase(
                    "anything_else",
                    "Ask if there is anything else",
                    [
                        "anything else i can help",
                        "anything else i can do",
                        "is there anything else",
                        "anything else today",
                        "any other questions",
                    ],
                    [
                        "могу ли я еще чем-то помочь",
                        "чем-то еще могу помочь",
                        "могу еще чем-нибудь помочь",
                        "есть ли еще вопросы",
                        "остались ли у вас вопросы",
                        "остались вопросы",
                    ],
                    window=_last(60),
                ),
                _phrase(
                    "farewell",
                    "Close the call politely",
                    FAREWELL_EN,
                    FAREWELL_RU,
                    window=_last(30),
                ),
            ],
        },
    ],
}

SALES: dict[str, Any] = {
    "key": "sales",
    "name": "Sales call",
    "description": (
        "Inbound or outbound sales: open, discover needs (and let the customer talk), present "
        "a fitting offer, handle objections, ask for the order, no false promises."
    ),
    "categories": [
        {
            "key": "opening",
            "name": "Opening",
            "weight": 10,
            "criteria": [
                _phrase(
                    "introduce",
                    "Introduce yourself and the company",
                    [
                        "my name is",
                        "calling from",
                        "calling on behalf of",
                        "thank you for calling",
                        "thanks for calling",
                        "you're speaking with",
                    ],
                    [
                        "меня зовут",
                        "звоню из компании",
                        "я представляю компанию",
                        "спасибо за звонок",
                        "вас беспокоит",
                        "с вами говорит",
                    ],
                    window=_first(30),
                ),
            ],
        },
        {
            "key": "discovery",
            "name": "Needs discovery",
            "weight": 25,
            "criteria": [
                _phrase(
                    "needs",
                    "Ask about the customer's needs",
                    [
                        "what are you looking for",
                        "what are you currently using",
                        "how do you currently",
                        "what is most important to you",
                        "what matters most",
                        "can you tell me more about",
                        "tell me about your",
                        "what challenges",
                        "what would you like to achieve",
                        "what is your budget",
                        "how many users",
                    ],
                    [
                        "что для вас важно",
                        "что вы ищете",
                        "расскажите подробнее",
                        "расскажите о",
                        "какой у вас бюджет",
                        "чем вы сейчас пользуетесь",
                        "какие у вас задачи",
                        "что вам нужно",
                    ],
                    weight=2,
                ),
                _metric(
                    "listen",
                    "Let the customer talk: agent talk ratio at most 65%",
                    "talk_ratio",
                    "lte",
                    0.65,
                ),
            ],
        },
        {
            "key": "offer",
            "name": "Offer",
            "weight": 20,
            "criteria": [
                _phrase(
                    "present_offer",
                    "Present a fitting offer",
                    [
                        "i recommend",
                        "i would recommend",
                        "i'd suggest",
                        "i would suggest",
                        "we can offer",
                        "our plan includes",
                        "this package includes",
                        "the best option for you",
                        "the price is",
                        "it costs",
                        "special offer",
                        "discount",
                    ],
                    [
                        "я рекомендую",
                        "я бы предложил",
                        "я бы предложила",
                        "мы можем предложить",
                        "в стоимость входит",
                        "стоимость составляет",
                        "специальное предложение",
                        "скидка",
                        "лучший вариант для вас",
                    ],
                ),
            ],
        },
        {
            "key": "objectionHandling",
            "name": "Objection handling",
            "weight": 10,
            "criteria": [
                _phrase(
                    "handle_objection",
                    "Acknowledge and answer objections",
                    [
                        "i understand your concern",
                        "that's a fair question",
                        "that's a great question",
                        "many of our customers",
                        "let me explain",
                        "the good news is",
                        "compared to",
                        "i hear you",
                        "what if we",
                    ],
                    [
                        "я понимаю ваши сомнения",
                        "понимаю вас",
                        "хороший вопрос",
                        "многие наши клиенты",
                        "давайте я объясню",
                        "хорошая новость",
                        "по сравнению с",
                    ],
                ),
            ],
        },
        {
            "key": "closing",
            "name": "Closing",
            "weight": 20,
            "criteria": [
                _phrase(
                    "ask_for_order",
                    "Ask for the order",
                    [
                        "would you like to go ahead",
                        "shall i set that up",
                        "can i sign you up",
                        "would you like to proceed",
                        "are you ready to get started",
                        "let's get you started",
                        "shall we place the order",
                        "would you like to order",
                        "can i go ahead and",
                    ],
                    [
                        "давайте оформим",
                        "хотите оформить",
                        "готовы оформить заказ",
                        "оформляем заказ",
                        "могу я оформить",
                        "оформить заказ",
                        "приступим",
                    ],
                    weight=2,
                ),
                _phrase(
                    "next_steps",
                    "Agree on the next steps",
                    [
                        "the next step",
                        "next steps",
                        "i will send you",
                        "i'll send you",
                        "you will receive an email",
                        "i'll email you",
                        "follow up",
                        "schedule a call",
                    ],
                    [
                        "следующий шаг",
                        "я отправлю вам",
                        "вы получите письмо",
                        "созвонимся",
                        "я вам перезвоню",
                        "договорились",
                    ],
                ),
            ],
        },
        {
            "key": "conduct",
            "name": "Conduct",
            "weight": 15,
            "criteria": [
                _phrase(
                    "no_false_promises",
                    "Make no false promises or high-pressure claims",
                    [
                        "guaranteed profit",
                        "guaranteed returns",
                        "guaranteed results",
                        "risk free",
                        "no risk at all",
                        "you can't lose",
                        "one hundred percent guaranteed",
                        "this offer ends today",
                        "only today",
                    ],
                    [
                        "гарантированный доход",
                        "гарантированная прибыль",
                        "без всякого риска",
                        "вы ничего не теряете",
                        "только сегодня",
                        "стопроцентная гарантия",
                    ],
                    forbidden=True,
                    compliance=True,
                    weight=2,
                ),
                _phrase("courteous", "Stay courteous", RUDE_EN, RUDE_RU, forbidden=True),
                PACE,
            ],
        },
    ],
}

COLLECTIONS: dict[str, Any] = {
    "key": "collections",
    "name": "Collections compliance",
    "description": (
        "Debt collection: right-party verification and the mini-Miranda disclosure early in "
        "the call, no threats or abuse, a concrete payment arrangement confirmed at the end."
    ),
    "categories": [
        {
            "key": "disclosure",
            "name": "Disclosure",
            "weight": 30,
            "criteria": [
                _phrase(
                    "mini_miranda",
                    "Give the mini-Miranda disclosure in the first 60 seconds",
                    [
                        "this is an attempt to collect a debt",
                        "any information obtained will be used for that purpose",
                        "this communication is from a debt collector",
                        "this is a communication from a debt collector",
                    ],
                    [
                        "это попытка взыскания задолженности",
                        "звонок касается взыскания задолженности",
                        "мы звоним по поводу вашей задолженности",
                        "звоним по вопросу задолженности",
                        "информация будет использована для взыскания долга",
                    ],
                    window=_first(60),
                    compliance=True,
                    weight=2,
                ),
                _phrase(
                    "identify",
                    "Identify yourself and the company",
                    ["my name is", "calling from", "calling on behalf of", "this is"],
                    ["меня зовут", "я звоню из", "вас беспокоит", "компания"],
                    window=_first(60),
                ),
                _phrase(
                    "verify_identity",
                    "Verify you are speaking with the debtor before discussing the debt",
                    [
                        "am i speaking with",
                        "am i speaking to",
                        "can you confirm your date of birth",
                        "confirm your date of birth",
                        "verify your identity",
                        "confirm the last four digits",
                        "for security purposes",
                    ],
                    [
                        "я разговариваю с",
                        "я говорю с",
                        "подтвердите дату рождения",
                        "назовите дату рождения",
                        "для подтверждения личности",
                        "подтвердите пожалуйста ваши данные",
                    ],
                    window=_first(90),
                    compliance=True,
                ),
            ],
        },
        {
            "key": "conduct",
            "name": "Conduct",
            "weight": 30,
            "criteria": [
                _phrase(
                    "no_threats",
                    "Make no threats of arrest, lawsuits or contacting others",
                    [
                        "we will sue you",
                        "we are going to sue you",
                        "you will go to jail",
                        "you'll go to jail",
                        "you will be arrested",
                        "we will have you arrested",
                        "we will call the police",
                        "we will take your house",
                        "we will seize your property",
                        "we will tell your employer",
                        "we will call your family",
                        "we will contact your family",
                        "you have no choice",
                    ],
                    [
                        "мы подадим на вас в суд",
                        "вас посадят",
                        "вы сядете в тюрьму",
                        "вас арестуют",
                        "мы приедем к вам домой",
                        "сообщим вам на работу",
                        "позвоним вашим родственникам",
                        "расскажем вашим родственникам",
                        "заберем ваше имущество",
                        "у вас нет выбора",
                    ],
                    forbidden=True,
                    compliance=True,
                    weight=3,
                ),
                _phrase(
                    "respectful",
                    "Stay respectful: no abuse or insults",
                    [*RUDE_EN, "deadbeat", "liar", "you people"],
                    [*RUDE_RU, "лжец", "бездельник", "нахлебник"],
                    forbidden=True,
                    compliance=True,
                    weight=2,
                ),
                PACE,
                _metric(
                    "overtalk",
                    "Let the customer finish: avoid talking over them",
                    "overtalk",
                    "lte",
                    10,
                ),
            ],
        },
        {
            "key": "paymentArrangement",
            "name": "Payment arrangement",
            "weight": 30,
            "criteria": [
                _phrase(
                    "ask_payment",
                    "Ask for payment",
                    [
                        "can you make a payment",
                        "can you pay",
                        "how much can you pay",
                        "pay the full balance",
                        "pay in full",
                        "make a payment today",
                        "the balance due",
                    ],
                    [
                        "когда вы сможете оплатить",
                        "сможете внести платеж",
                        "какую сумму вы можете внести",
                        "оплатить задолженность",
                        "погасить задолженность",
                        "внести оплату",
                    ],
                    weight=2,
                ),
                _phrase(
                    "arrangement",
                    "Agree on a payment arrangement",
                    [
                        "payment plan",
                        "payment arrangement",
                        "set up a payment",
                        "schedule a payment",
                        "in installments",
                        "promise to pay",
                        "split the balance",
                    ],
                    [
                        "график платежей",
                        "рассрочка",
                        "реструктуризация",
                        "обещание оплаты",
                        "договоримся о платеже",
                        "оплатить частями",
                    ],
                    weight=2,
                ),
                _phrase(
                    "confirm_terms",
                    "Confirm the amount and date before ending the call",
                    [
                        "just to confirm",
                        "to confirm",
                        "you agreed to pay",
                        "your payment of",
                        "your next payment",
                        "i have noted your promise",
                        "i have scheduled",
                    ],
                    [
                        "подтверждаю",
                        "итак вы оплатите",
                        "вы обязуетесь оплатить",
                        "ваш следующий платеж",
                        "я зафиксировал",
                        "я зафиксировала",
                    ],
                    window=_last(90),
                ),
            ],
        },
        {
            "key": "closing",
            "name": "Closing",
            "weight": 10,
            "criteria": [
                _phrase(
                    "farewell",
                    "Close the call politely",
                    [*FAREWELL_EN, "thank you for your payment"],
                    [*FAREWELL_RU, "спасибо за оплату"],
                    window=_last(30),
                ),
            ],
        },
    ],
}

PROFILES: list[dict[str, Any]] = [GENERAL, SALES, COLLECTIONS]
