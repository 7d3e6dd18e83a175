using System.Globalization;

namespace Cimef.Site.Web;

/// <summary>
/// The one rule for "a date someone typed is within a sane range", for every page field, query filter and JSON
/// value: outside it, day arithmetic (the next day, a clinic day's UTC start) overflows DateTime and the database's
/// range, so such a date is refused with <see cref="OutOfRange"/> before anything computes with it. Page model binding
/// applies it to every DateOnly/DateTime it binds (<see cref="UserDateBinderProvider"/>); code that parses a date from
/// text itself calls <see cref="ParseDay"/> or <see cref="InRange(DateOnly)"/>; the FHIR date search takes its years from here.
/// </summary>
public static class UserDates
{
    public const int FirstYear = 1900;
    public const int LastYear = 2999;
    public static readonly DateOnly Min = new(FirstYear, 1, 1);
    public static readonly DateOnly Max = new(LastYear, 12, 31);

    public const string OutOfRange = "Date hors limites : saisissez une date entre le 01/01/1900 et le 31/12/2999.";

    public static bool InRange(DateOnly day) => day >= Min && day <= Max;

    public static bool InRange(DateTime at) => InRange(DateOnly.FromDateTime(at));

    /// <summary>A bound value of any date type: true when it is not a date or is inside the range.</summary>
    public static bool InRange(object? value) => value switch
    {
        DateOnly d => InRange(d),
        DateTime t => InRange(t),
        DateTimeOffset o => InRange(o.UtcDateTime),
        _ => true,
    };

    /// <summary>A YYYY-MM-DD value: the day, or null with the French reason (wrong format, out of range).</summary>
    public static (DateOnly? Day, string? Error) ParseDay(string text, string formatError)
    {
        if (!DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            return (null, formatError);
        return InRange(day) ? (day, null) : (null, OutOfRange);
    }
}

/// <summary>
/// Wraps the binder MVC would use for a DateOnly, DateTime or DateTimeOffset (nullable or not): a value outside
/// <see cref="UserDates"/>' range is a model error with its French message and is left unbound, so a page sees an
/// invalid ModelState and the property's default, never the out-of-range date.
/// </summary>
public sealed class UserDateBinderProvider(IReadOnlyList<Microsoft.AspNetCore.Mvc.ModelBinding.IModelBinderProvider> others)
    : Microsoft.AspNetCore.Mvc.ModelBinding.IModelBinderProvider
{
    public Microsoft.AspNetCore.Mvc.ModelBinding.IModelBinder? GetBinder(Microsoft.AspNetCore.Mvc.ModelBinding.ModelBinderProviderContext context)
    {
        var type = context.Metadata.UnderlyingOrModelType;
        if (type != typeof(DateOnly) && type != typeof(DateTime) && type != typeof(DateTimeOffset)) return null;
        foreach (var provider in others)
            if (provider.GetBinder(context) is { } inner) return new Binder(inner);
        return null;
    }

    private sealed class Binder(Microsoft.AspNetCore.Mvc.ModelBinding.IModelBinder inner) : Microsoft.AspNetCore.Mvc.ModelBinding.IModelBinder
    {
        public async Task BindModelAsync(Microsoft.AspNetCore.Mvc.ModelBinding.ModelBindingContext context)
        {
            await inner.BindModelAsync(context);
            if (!context.Result.IsModelSet || UserDates.InRange(context.Result.Model)) return;
            context.ModelState.TryAddModelError(context.ModelName, UserDates.OutOfRange);
            context.Result = Microsoft.AspNetCore.Mvc.ModelBinding.ModelBindingResult.Failed();
        }
    }
}
