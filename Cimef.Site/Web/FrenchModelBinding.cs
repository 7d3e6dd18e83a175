namespace Cimef.Site.Web;

/// <summary>French messages for model-binding failures (a number field with letters, a missing value…).</summary>
public static class FrenchModelBinding
{
    public static void Apply(Microsoft.AspNetCore.Mvc.MvcOptions o)
    {
        var p = o.ModelBindingMessageProvider;
        p.SetAttemptedValueIsInvalidAccessor((value, field) => $"La valeur « {value} » n'est pas valide pour {field}.");
        p.SetMissingBindRequiredValueAccessor(field => $"Une valeur est requise pour {field}.");
        p.SetMissingKeyOrValueAccessor(() => "Une valeur est requise.");
        p.SetMissingRequestBodyRequiredValueAccessor(() => "Le corps de la requête est vide.");
        p.SetNonPropertyAttemptedValueIsInvalidAccessor(value => $"La valeur « {value} » n'est pas valide.");
        p.SetNonPropertyUnknownValueIsInvalidAccessor(() => "La valeur saisie n'est pas valide.");
        p.SetUnknownValueIsInvalidAccessor(field => $"La valeur saisie n'est pas valide pour {field}.");
        p.SetValueIsInvalidAccessor(value => $"La valeur « {value} » n'est pas valide.");
        p.SetValueMustBeANumberAccessor(field => $"Le champ {field} doit être un nombre.");
        p.SetValueMustNotBeNullAccessor(field => $"Le champ {field} est obligatoire.");
        p.SetNonPropertyValueMustBeANumberAccessor(() => "La valeur doit être un nombre.");
        // Every bound date goes through the one range rule first.
        o.ModelBinderProviders.Insert(0, new UserDateBinderProvider(o.ModelBinderProviders.ToList()));
    }
}
