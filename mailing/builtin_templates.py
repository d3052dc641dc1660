"""The 12 built-in email templates (SPEC M-2 c), each in every ``TemplateLanguage``.

A seller starts from one of them (``services.setup.template_copy``) and edits the copy. Each
entry: subject (value proposition first, M-7), preheader, heading, paragraph, button label and
the merge tag the button links to. ``FOOTER`` holds the footer's fixed words per language (the
footer itself is the platform layout's, never seller content).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# key → (name, when to use it, the button's link)
BUILTINS: dict[str, tuple] = {
    "seasonal_promotion": (_("Seasonal promotion"), _("Holiday and seasonal sales."), "shop.url"),
    "restock_alert": (_("Restock alert"), _("A product buyers wanted is back."), "product.url"),
    "logistics_update": (
        _("Logistics update"),
        _("Where the buyer's parcel is."),
        "order.tracking_url",
    ),
    "abandoned_cart": (_("Abandoned cart"), _("Items left in the cart."), "cart.url"),
    "welcome": (_("Welcome"), _("A buyer's first order or sign-up."), "shop.url"),
    "win_back": (_("Win-back"), _("Buyers who have not ordered for a while."), "shop.url"),
    "new_arrivals": (_("New arrivals"), _("New products in your shop."), "shop.url"),
    "coins_expiring": (
        _("Coins expiring"),
        _("Remind buyers to use their coins before they expire."),
        "shop.url",
    ),
    "review_request": (
        _("Review request"),
        _("Ask for a review after delivery."),
        "order.tracking_url",
    ),
    "flash_deal": (_("Flash deal"), _("A short, limited offer."), "product.url"),
    "thank_you": (_("Thank you"), _("Thank buyers after an order."), "shop.url"),
    "anniversary": (_("Anniversary"), _("A buyer's anniversary with your shop."), "shop.url"),
}

# language → key → (subject, preheader, heading, paragraph, button)
CONTENT: dict[str, dict[str, tuple[str, str, str, str, str]]] = {
    "en": {
        "seasonal_promotion": (
            "Season sale: up to 30% off at {{ shop.name }}",
            "Our seasonal favourites, for a short time.",
            "The season's best, for less",
            "Hi {{ buyer.first_name }}, our seasonal sale is on. Use code {{ offer.code }} "
            "before {{ offer.ends_at }}.",
            "Shop the sale",
        ),
        "restock_alert": (
            "Back in stock: {{ product.name }}",
            "It sold out fast last time.",
            "It's back",
            "Good news, {{ buyer.first_name }}: {{ product.name }} is available again at "
            "{{ product.price }}.",
            "Get it now",
        ),
        "logistics_update": (
            "Your order {{ order.number }} is on its way",
            "Follow your parcel.",
            "Your parcel is moving",
            "Hi {{ buyer.first_name }}, your order {{ order.number }} is {{ order.status }}.",
            "Track my parcel",
        ),
        "abandoned_cart": (
            "Still thinking? Your cart is waiting",
            "Your items are saved.",
            "You left something behind",
            "Hi {{ buyer.first_name }}, the items in your cart are still available.",
            "Back to my cart",
        ),
        "welcome": (
            "Welcome to {{ shop.name }}: a gift inside",
            "Thanks for joining us.",
            "Welcome, {{ buyer.first_name }}",
            "We are glad you are here. Use code {{ offer.code }} on your next order.",
            "Visit the shop",
        ),
        "win_back": (
            "We miss you: 15% off your next order",
            "Come back and see what's new.",
            "It's been a while",
            "Hi {{ buyer.first_name }}, here is code {{ offer.code }} to welcome you back.",
            "See what's new",
        ),
        "new_arrivals": (
            "New in: fresh picks at {{ shop.name }}",
            "Be the first to see them.",
            "Just arrived",
            "Hi {{ buyer.first_name }}, new products have just arrived in our shop.",
            "See new arrivals",
        ),
        "coins_expiring": (
            "{{ coins.expiring }} coins expire on {{ coins.expiry_date }}",
            "Use them before they're gone.",
            "Your coins are about to expire",
            "Hi {{ buyer.first_name }}, you have {{ coins.balance }} coins; "
            "{{ coins.expiring }} of them expire on {{ coins.expiry_date }}.",
            "Use my coins",
        ),
        "review_request": (
            "How was your order {{ order.number }}?",
            "Your review helps other buyers.",
            "Tell us what you think",
            "Hi {{ buyer.first_name }}, we hope you enjoy your purchase. A short review "
            "helps us a lot.",
            "Write a review",
        ),
        "flash_deal": (
            "Flash deal: {{ product.name }} at {{ product.price }}",
            "Only until {{ offer.ends_at }}.",
            "Flash deal",
            "Hi {{ buyer.first_name }}, {{ product.name }} is on a flash deal until "
            "{{ offer.ends_at }}.",
            "Grab the deal",
        ),
        "thank_you": (
            "Thank you for your order, {{ buyer.first_name }}",
            "We appreciate it.",
            "Thank you",
            "Thank you for shopping at {{ shop.name }}. We hope to see you again soon.",
            "Visit the shop",
        ),
        "anniversary": (
            "Happy anniversary: a gift for {{ anniversary.years }} years together",
            "Thanks for being with us.",
            "Happy anniversary, {{ buyer.first_name }}",
            "It has been {{ anniversary.years }} years since your first order. Celebrate with "
            "code {{ offer.code }}.",
            "Claim my gift",
        ),
    },
    "es": {
        "seasonal_promotion": (
            "Rebajas de temporada: hasta 30% en {{ shop.name }}",
            "Nuestros favoritos de temporada, por poco tiempo.",
            "Lo mejor de la temporada, por menos",
            "Hola {{ buyer.first_name }}, nuestras rebajas de temporada ya están aquí. Usa el "
            "código {{ offer.code }} antes del {{ offer.ends_at }}.",
            "Ver las rebajas",
        ),
        "restock_alert": (
            "De nuevo disponible: {{ product.name }}",
            "La última vez se agotó rápido.",
            "Ha vuelto",
            "Buenas noticias, {{ buyer.first_name }}: {{ product.name }} vuelve a estar "
            "disponible por {{ product.price }}.",
            "Comprar ahora",
        ),
        "logistics_update": (
            "Tu pedido {{ order.number }} está en camino",
            "Sigue tu paquete.",
            "Tu paquete avanza",
            "Hola {{ buyer.first_name }}, tu pedido {{ order.number }} está {{ order.status }}.",
            "Seguir mi paquete",
        ),
        "abandoned_cart": (
            "¿Aún lo piensas? Tu carrito te espera",
            "Tus artículos están guardados.",
            "Te has dejado algo",
            "Hola {{ buyer.first_name }}, los artículos de tu carrito siguen disponibles.",
            "Volver a mi carrito",
        ),
        "welcome": (
            "Bienvenido a {{ shop.name }}: un regalo para ti",
            "Gracias por unirte.",
            "Bienvenido, {{ buyer.first_name }}",
            "Nos alegra tenerte aquí. Usa el código {{ offer.code }} en tu próximo pedido.",
            "Visitar la tienda",
        ),
        "win_back": (
            "Te echamos de menos: 15% en tu próximo pedido",
            "Vuelve y descubre las novedades.",
            "Ha pasado un tiempo",
            "Hola {{ buyer.first_name }}, aquí tienes el código {{ offer.code }} para tu vuelta.",
            "Ver novedades",
        ),
        "new_arrivals": (
            "Novedades en {{ shop.name }}",
            "Sé el primero en verlas.",
            "Recién llegados",
            "Hola {{ buyer.first_name }}, acaban de llegar productos nuevos a nuestra tienda.",
            "Ver novedades",
        ),
        "coins_expiring": (
            "{{ coins.expiring }} monedas caducan el {{ coins.expiry_date }}",
            "Úsalas antes de que desaparezcan.",
            "Tus monedas están a punto de caducar",
            "Hola {{ buyer.first_name }}, tienes {{ coins.balance }} monedas; "
            "{{ coins.expiring }} caducan el {{ coins.expiry_date }}.",
            "Usar mis monedas",
        ),
        "review_request": (
            "¿Qué tal tu pedido {{ order.number }}?",
            "Tu opinión ayuda a otros compradores.",
            "Cuéntanos qué te parece",
            "Hola {{ buyer.first_name }}, esperamos que disfrutes tu compra. Una breve opinión "
            "nos ayuda mucho.",
            "Escribir una opinión",
        ),
        "flash_deal": (
            "Oferta flash: {{ product.name }} a {{ product.price }}",
            "Solo hasta el {{ offer.ends_at }}.",
            "Oferta flash",
            "Hola {{ buyer.first_name }}, {{ product.name }} está en oferta flash hasta el "
            "{{ offer.ends_at }}.",
            "Aprovechar la oferta",
        ),
        "thank_you": (
            "Gracias por tu pedido, {{ buyer.first_name }}",
            "Te lo agradecemos.",
            "Gracias",
            "Gracias por comprar en {{ shop.name }}. Esperamos verte pronto.",
            "Visitar la tienda",
        ),
        "anniversary": (
            "Feliz aniversario: un regalo por {{ anniversary.years }} años juntos",
            "Gracias por estar con nosotros.",
            "Feliz aniversario, {{ buyer.first_name }}",
            "Han pasado {{ anniversary.years }} años desde tu primer pedido. Celébralo con el "
            "código {{ offer.code }}.",
            "Recibir mi regalo",
        ),
    },
    "fr": {
        "seasonal_promotion": (
            "Soldes de saison : jusqu'à -30 % chez {{ shop.name }}",
            "Nos favoris de la saison, pour peu de temps.",
            "Le meilleur de la saison, moins cher",
            "Bonjour {{ buyer.first_name }}, nos soldes de saison ont commencé. Utilisez le "
            "code {{ offer.code }} avant le {{ offer.ends_at }}.",
            "Voir les soldes",
        ),
        "restock_alert": (
            "De retour en stock : {{ product.name }}",
            "La dernière fois, il est parti vite.",
            "Il est de retour",
            "Bonne nouvelle, {{ buyer.first_name }} : {{ product.name }} est de nouveau "
            "disponible à {{ product.price }}.",
            "Je le veux",
        ),
        "logistics_update": (
            "Votre commande {{ order.number }} est en route",
            "Suivez votre colis.",
            "Votre colis avance",
            "Bonjour {{ buyer.first_name }}, votre commande {{ order.number }} est "
            "{{ order.status }}.",
            "Suivre mon colis",
        ),
        "abandoned_cart": (
            "Vous hésitez ? Votre panier vous attend",
            "Vos articles sont sauvegardés.",
            "Vous avez oublié quelque chose",
            "Bonjour {{ buyer.first_name }}, les articles de votre panier sont toujours "
            "disponibles.",
            "Retour à mon panier",
        ),
        "welcome": (
            "Bienvenue chez {{ shop.name }} : un cadeau vous attend",
            "Merci de nous avoir rejoints.",
            "Bienvenue, {{ buyer.first_name }}",
            "Nous sommes ravis de vous compter parmi nous. Utilisez le code {{ offer.code }} "
            "lors de votre prochaine commande.",
            "Visiter la boutique",
        ),
        "win_back": (
            "Vous nous manquez : -15 % sur votre prochaine commande",
            "Revenez découvrir les nouveautés.",
            "Cela fait longtemps",
            "Bonjour {{ buyer.first_name }}, voici le code {{ offer.code }} pour votre retour.",
            "Voir les nouveautés",
        ),
        "new_arrivals": (
            "Nouveautés chez {{ shop.name }}",
            "Soyez le premier à les voir.",
            "Tout juste arrivés",
            "Bonjour {{ buyer.first_name }}, de nouveaux produits viennent d'arriver dans notre "
            "boutique.",
            "Voir les nouveautés",
        ),
        "coins_expiring": (
            "{{ coins.expiring }} pièces expirent le {{ coins.expiry_date }}",
            "Utilisez-les avant qu'elles ne disparaissent.",
            "Vos pièces vont bientôt expirer",
            "Bonjour {{ buyer.first_name }}, vous avez {{ coins.balance }} pièces ; "
            "{{ coins.expiring }} expirent le {{ coins.expiry_date }}.",
            "Utiliser mes pièces",
        ),
        "review_request": (
            "Comment s'est passée votre commande {{ order.number }} ?",
            "Votre avis aide les autres acheteurs.",
            "Donnez-nous votre avis",
            "Bonjour {{ buyer.first_name }}, nous espérons que votre achat vous plaît. Un court "
            "avis nous aide beaucoup.",
            "Laisser un avis",
        ),
        "flash_deal": (
            "Vente flash : {{ product.name }} à {{ product.price }}",
            "Seulement jusqu'au {{ offer.ends_at }}.",
            "Vente flash",
            "Bonjour {{ buyer.first_name }}, {{ product.name }} est en vente flash jusqu'au "
            "{{ offer.ends_at }}.",
            "J'en profite",
        ),
        "thank_you": (
            "Merci pour votre commande, {{ buyer.first_name }}",
            "Nous l'apprécions.",
            "Merci",
            "Merci d'avoir acheté chez {{ shop.name }}. À bientôt !",
            "Visiter la boutique",
        ),
        "anniversary": (
            "Joyeux anniversaire : un cadeau pour {{ anniversary.years }} ans ensemble",
            "Merci d'être avec nous.",
            "Joyeux anniversaire, {{ buyer.first_name }}",
            "Votre première commande date de {{ anniversary.years }} ans. Fêtez-le avec le code "
            "{{ offer.code }}.",
            "Recevoir mon cadeau",
        ),
    },
    "ru": {
        "seasonal_promotion": (
            "Сезонная распродажа: скидки до 30% в {{ shop.name }}",
            "Сезонные хиты — только короткое время.",
            "Лучшее за сезон — дешевле",
            "Здравствуйте, {{ buyer.first_name }}! Наша сезонная распродажа началась. "
            "Используйте код {{ offer.code }} до {{ offer.ends_at }}.",
            "К распродаже",
        ),
        "restock_alert": (
            "Снова в наличии: {{ product.name }}",
            "В прошлый раз его быстро раскупили.",
            "Он вернулся",
            "Хорошие новости, {{ buyer.first_name }}: {{ product.name }} снова в продаже по "
            "цене {{ product.price }}.",
            "Купить сейчас",
        ),
        "logistics_update": (
            "Ваш заказ {{ order.number }} в пути",
            "Следите за посылкой.",
            "Ваша посылка в пути",
            "Здравствуйте, {{ buyer.first_name }}! Статус заказа {{ order.number }}: "
            "{{ order.status }}.",
            "Отследить посылку",
        ),
        "abandoned_cart": (
            "Ещё думаете? Ваша корзина ждёт",
            "Ваши товары сохранены.",
            "Вы кое-что забыли",
            "Здравствуйте, {{ buyer.first_name }}! Товары в вашей корзине всё ещё доступны.",
            "Вернуться в корзину",
        ),
        "welcome": (
            "Добро пожаловать в {{ shop.name }}: вас ждёт подарок",
            "Спасибо, что вы с нами.",
            "Добро пожаловать, {{ buyer.first_name }}",
            "Мы рады вам. Используйте код {{ offer.code }} в следующем заказе.",
            "В магазин",
        ),
        "win_back": (
            "Мы скучаем: скидка 15% на следующий заказ",
            "Загляните и посмотрите новинки.",
            "Давно не виделись",
            "Здравствуйте, {{ buyer.first_name }}! Вот код {{ offer.code }} к вашему возвращению.",
            "Смотреть новинки",
        ),
        "new_arrivals": (
            "Новинки в {{ shop.name }}",
            "Увидьте их первыми.",
            "Только что поступили",
            "Здравствуйте, {{ buyer.first_name }}! В нашем магазине появились новые товары.",
            "Смотреть новинки",
        ),
        "coins_expiring": (
            "{{ coins.expiring }} монет сгорят {{ coins.expiry_date }}",
            "Потратьте их, пока не поздно.",
            "Ваши монеты скоро сгорят",
            "Здравствуйте, {{ buyer.first_name }}! У вас {{ coins.balance }} монет; "
            "{{ coins.expiring }} из них сгорят {{ coins.expiry_date }}.",
            "Потратить монеты",
        ),
        "review_request": (
            "Как вам заказ {{ order.number }}?",
            "Ваш отзыв поможет другим покупателям.",
            "Расскажите о покупке",
            "Здравствуйте, {{ buyer.first_name }}! Надеемся, покупка вам понравилась. Короткий "
            "отзыв очень нам поможет.",
            "Оставить отзыв",
        ),
        "flash_deal": (
            "Молниеносная скидка: {{ product.name }} за {{ product.price }}",
            "Только до {{ offer.ends_at }}.",
            "Молниеносная скидка",
            "Здравствуйте, {{ buyer.first_name }}! {{ product.name }} по специальной цене до "
            "{{ offer.ends_at }}.",
            "Успеть купить",
        ),
        "thank_you": (
            "Спасибо за заказ, {{ buyer.first_name }}",
            "Мы это ценим.",
            "Спасибо",
            "Спасибо за покупку в {{ shop.name }}. Ждём вас снова.",
            "В магазин",
        ),
        "anniversary": (
            "С годовщиной: подарок за {{ anniversary.years }} года вместе",
            "Спасибо, что вы с нами.",
            "С годовщиной, {{ buyer.first_name }}",
            "Прошло {{ anniversary.years }} года с вашего первого заказа. Отметьте это с кодом "
            "{{ offer.code }}.",
            "Получить подарок",
        ),
    },
    "pt": {
        "seasonal_promotion": (
            "Promoção da estação: até 30% off na {{ shop.name }}",
            "Os favoritos da estação, por pouco tempo.",
            "O melhor da estação, por menos",
            "Olá {{ buyer.first_name }}, nossa promoção da estação começou. Use o código "
            "{{ offer.code }} até {{ offer.ends_at }}.",
            "Ver a promoção",
        ),
        "restock_alert": (
            "De volta ao estoque: {{ product.name }}",
            "Da última vez esgotou rápido.",
            "Voltou",
            "Boa notícia, {{ buyer.first_name }}: {{ product.name }} está disponível de novo "
            "por {{ product.price }}.",
            "Comprar agora",
        ),
        "logistics_update": (
            "Seu pedido {{ order.number }} está a caminho",
            "Acompanhe seu pacote.",
            "Seu pacote está a caminho",
            "Olá {{ buyer.first_name }}, seu pedido {{ order.number }} está {{ order.status }}.",
            "Rastrear meu pacote",
        ),
        "abandoned_cart": (
            "Ainda pensando? Seu carrinho está esperando",
            "Seus itens estão salvos.",
            "Você esqueceu algo",
            "Olá {{ buyer.first_name }}, os itens do seu carrinho ainda estão disponíveis.",
            "Voltar ao carrinho",
        ),
        "welcome": (
            "Bem-vindo à {{ shop.name }}: um presente para você",
            "Obrigado por se juntar a nós.",
            "Bem-vindo, {{ buyer.first_name }}",
            "Que bom ter você aqui. Use o código {{ offer.code }} no seu próximo pedido.",
            "Visitar a loja",
        ),
        "win_back": (
            "Sentimos sua falta: 15% off no próximo pedido",
            "Volte e veja as novidades.",
            "Faz tempo",
            "Olá {{ buyer.first_name }}, aqui está o código {{ offer.code }} para a sua volta.",
            "Ver novidades",
        ),
        "new_arrivals": (
            "Novidades na {{ shop.name }}",
            "Seja o primeiro a ver.",
            "Acabaram de chegar",
            "Olá {{ buyer.first_name }}, acabaram de chegar produtos novos na nossa loja.",
            "Ver novidades",
        ),
        "coins_expiring": (
            "{{ coins.expiring }} moedas expiram em {{ coins.expiry_date }}",
            "Use-as antes que acabem.",
            "Suas moedas estão para expirar",
            "Olá {{ buyer.first_name }}, você tem {{ coins.balance }} moedas; "
            "{{ coins.expiring }} expiram em {{ coins.expiry_date }}.",
            "Usar minhas moedas",
        ),
        "review_request": (
            "Como foi seu pedido {{ order.number }}?",
            "Sua avaliação ajuda outros compradores.",
            "Conte o que achou",
            "Olá {{ buyer.first_name }}, esperamos que goste da compra. Uma avaliação curta "
            "nos ajuda muito.",
            "Avaliar",
        ),
        "flash_deal": (
            "Oferta relâmpago: {{ product.name }} por {{ product.price }}",
            "Só até {{ offer.ends_at }}.",
            "Oferta relâmpago",
            "Olá {{ buyer.first_name }}, {{ product.name }} está em oferta relâmpago até "
            "{{ offer.ends_at }}.",
            "Aproveitar",
        ),
        "thank_you": (
            "Obrigado pelo seu pedido, {{ buyer.first_name }}",
            "Agradecemos muito.",
            "Obrigado",
            "Obrigado por comprar na {{ shop.name }}. Esperamos ver você em breve.",
            "Visitar a loja",
        ),
        "anniversary": (
            "Feliz aniversário: um presente por {{ anniversary.years }} anos juntos",
            "Obrigado por estar conosco.",
            "Feliz aniversário, {{ buyer.first_name }}",
            "Faz {{ anniversary.years }} anos desde o seu primeiro pedido. Comemore com o código "
            "{{ offer.code }}.",
            "Pegar meu presente",
        ),
    },
    "zh-hans": {
        "seasonal_promotion": (
            "换季大促：{{ shop.name }} 低至七折",
            "当季热卖，限时优惠。",
            "当季好物，更优价格",
            "{{ buyer.first_name }}，您好！换季大促已开始，{{ offer.ends_at }} 前使用优惠码 "
            "{{ offer.code }}。",
            "立即选购",
        ),
        "restock_alert": (
            "到货提醒：{{ product.name }} 已补货",
            "上次很快就售罄了。",
            "它回来了",
            "{{ buyer.first_name }}，好消息：{{ product.name }} 已重新上架，售价 "
            "{{ product.price }}。",
            "立即购买",
        ),
        "logistics_update": (
            "您的订单 {{ order.number }} 正在配送中",
            "随时查看包裹动态。",
            "包裹正在路上",
            "{{ buyer.first_name }}，您好！订单 {{ order.number }} 当前状态：{{ order.status }}。",
            "查看物流",
        ),
        "abandoned_cart": (
            "还在考虑吗？购物车里的商品在等您",
            "您的商品已为您保留。",
            "您落下了商品",
            "{{ buyer.first_name }}，您好！您购物车中的商品仍有库存。",
            "返回购物车",
        ),
        "welcome": (
            "欢迎光临 {{ shop.name }}：送您一份见面礼",
            "感谢您的关注。",
            "欢迎您，{{ buyer.first_name }}",
            "很高兴见到您。下次下单时使用优惠码 {{ offer.code }}。",
            "进店逛逛",
        ),
        "win_back": (
            "好久不见：下单立享 85 折",
            "回来看看新品吧。",
            "好久不见",
            "{{ buyer.first_name }}，您好！送您优惠码 {{ offer.code }}，欢迎回来。",
            "查看新品",
        ),
        "new_arrivals": (
            "上新啦：{{ shop.name }} 新品到店",
            "抢先一睹为快。",
            "新品到店",
            "{{ buyer.first_name }}，您好！我们店铺刚刚上架了新品。",
            "查看新品",
        ),
        "coins_expiring": (
            "您有 {{ coins.expiring }} 金币将于 {{ coins.expiry_date }} 过期",
            "过期前记得使用。",
            "金币即将过期",
            "{{ buyer.first_name }}，您好！您共有 {{ coins.balance }} 金币，其中 "
            "{{ coins.expiring }} 金币将于 {{ coins.expiry_date }} 过期。",
            "使用金币",
        ),
        "review_request": (
            "订单 {{ order.number }} 体验如何？",
            "您的评价能帮助其他买家。",
            "说说您的感受",
            "{{ buyer.first_name }}，您好！希望您喜欢这次购物，简短的评价对我们帮助很大。",
            "去评价",
        ),
        "flash_deal": (
            "限时秒杀：{{ product.name }} 仅 {{ product.price }}",
            "截至 {{ offer.ends_at }}。",
            "限时秒杀",
            "{{ buyer.first_name }}，您好！{{ product.name }} 限时秒杀，截至 {{ offer.ends_at }}。",
            "立即抢购",
        ),
        "thank_you": (
            "感谢您的订单，{{ buyer.first_name }}",
            "感谢您的支持。",
            "谢谢您",
            "感谢您在 {{ shop.name }} 购物，期待再次为您服务。",
            "进店逛逛",
        ),
        "anniversary": (
            "周年快乐：相伴 {{ anniversary.years }} 年的礼物",
            "感谢一路相伴。",
            "周年快乐，{{ buyer.first_name }}",
            "距离您的第一笔订单已经 {{ anniversary.years }} 年了，使用优惠码 {{ offer.code }} "
            "一起庆祝吧。",
            "领取礼物",
        ),
    },
}

# The footer's fixed words per language (the layout's, never seller content, M-7).
FOOTER: dict[str, dict[str, str]] = {
    "en": {
        "why": "You receive this email because you bought from or subscribed to {shop}.",
        "unsubscribe": "Unsubscribe",
        "address": "Address",
        "phone": "Customer service",
    },
    "es": {
        "why": "Recibes este correo porque compraste en {shop} o te suscribiste.",
        "unsubscribe": "Darse de baja",
        "address": "Dirección",
        "phone": "Atención al cliente",
    },
    "fr": {
        "why": "Vous recevez cet e-mail car vous avez acheté chez {shop} ou vous êtes abonné.",
        "unsubscribe": "Se désabonner",
        "address": "Adresse",
        "phone": "Service client",
    },
    "ru": {
        "why": "Вы получили это письмо, потому что покупали в {shop} или подписались.",
        "unsubscribe": "Отписаться",
        "address": "Адрес",
        "phone": "Служба поддержки",
    },
    "pt": {
        "why": "Você recebe este e-mail porque comprou na {shop} ou se inscreveu.",
        "unsubscribe": "Cancelar inscrição",
        "address": "Endereço",
        "phone": "Atendimento ao cliente",
    },
    "zh-hans": {
        "why": "您收到此邮件，是因为您在 {shop} 购物或订阅了我们的邮件。",
        "unsubscribe": "退订",
        "address": "地址",
        "phone": "客服电话",
    },
}


def body_html(key: str, language: str) -> str:
    """A built-in's body in one language, as restricted HTML with merge tags."""
    _subject, _pre, heading, paragraph, button = CONTENT[language][key]
    link = BUILTINS[key][2]
    return (
        f"<h1>{heading}</h1>\n<p>{paragraph}</p>\n"
        f'<p><a class="sc-button" href="{{{{ {link} }}}}">{button}</a></p>'
    )


def variants(key: str) -> dict[str, tuple[str, str, str]]:
    """language → (subject, preheader, body) of a built-in."""
    return {
        lang: (content[key][0], content[key][1], body_html(key, lang))
        for lang, content in CONTENT.items()
    }


def footer_words(language: str) -> dict[str, str]:
    return FOOTER.get(language) or FOOTER["en"]
