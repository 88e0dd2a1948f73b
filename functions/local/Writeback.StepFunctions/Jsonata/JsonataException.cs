using System.Globalization;

namespace Writeback.StepFunctions.Jsonata;

/// <summary>A JSONata compile or evaluation error with the reference implementation's error code (S0xxx syntax, T type, D dynamic).</summary>
public sealed class JsonataException : Exception
{
    public JsonataException(string code, int position = -1, string? token = null, object? value = null, object? value2 = null, int index = 0)
        : base(Describe(code, token, value, value2, index))
    {
        Code = code;
        Position = position;
        Token = token;
        Value = value;
        Index = index;
    }

    public string Code { get; }

    public int Position { get; internal set; }

    public string? Token { get; internal set; }

    public object? Value { get; }

    public int Index { get; }

    private static string Describe(string code, string? token, object? value, object? value2, int index)
    {
        var template = Templates.TryGetValue(code, out var t) ? t : "JSONata error";
        return string.Create(CultureInfo.InvariantCulture, $"{code}: ")
            + template.Replace("{token}", token ?? "", StringComparison.Ordinal)
                .Replace("{value}", Show(value), StringComparison.Ordinal)
                .Replace("{value2}", Show(value2), StringComparison.Ordinal)
                .Replace("{index}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    /// <summary>A value as the message shows it; an infinite number (which JSON cannot hold) is named, not stringified.</summary>
    private static string Show(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => Values.FormatNumber(d),
        JList or JObject when Contains(value, v => v is double d && !double.IsFinite(d)) => "(a value holding a non-finite number)",
        _ => Values.Stringify(value, pretty: false),
    };

    private static bool Contains(object? value, Func<object?, bool> test) => value switch
    {
        JList l => l.Any(v => Contains(v, test)),
        JObject o => o.Values.Any(v => Contains(v, test)),
        _ => test(value),
    };

    private static readonly Dictionary<string, string> Templates = new(StringComparer.Ordinal)
    {
        ["S0101"] = "String literal must be terminated by a matching quote",
        ["S0102"] = "Number out of range: {token}",
        ["S0103"] = "Unsupported escape sequence: \\{token}",
        ["S0104"] = "The escape sequence \\u must be followed by 4 hex digits",
        ["S0105"] = "Quoted property name must be terminated with a backquote (`)",
        ["S0106"] = "Comment has no closing tag",
        ["S0201"] = "Syntax error: {token}",
        ["S0202"] = "Expected {value}, got {token}",
        ["S0203"] = "Expected {value} before end of expression",
        ["S0204"] = "Unknown operator: {token}",
        ["S0205"] = "Unexpected token: {token}",
        ["S0207"] = "Unexpected end of expression",
        ["S0208"] = "Parameter {value} of function definition must be a variable name (start with $)",
        ["S0209"] = "A predicate cannot follow a grouping expression in a step",
        ["S0210"] = "Each step can only have one grouping expression",
        ["S0211"] = "The symbol {token} cannot be used as a unary operator",
        ["S0212"] = "The left side of := must be a variable name (start with $)",
        ["S0213"] = "The literal value {value} cannot be used as a step within a path expression",
        ["S0214"] = "The right side of {token} must be a variable name (start with $)",
        ["S0215"] = "A context variable binding must precede any predicates on a step",
        ["S0216"] = "A context variable binding must precede the 'order-by' clause on a step",
        ["S0217"] = "The object representing the 'parent' cannot be derived from this expression",
        ["S0301"] = "Empty regular expressions are not allowed",
        ["S0302"] = "No terminating / in regular expression",
        ["S0401"] = "Type parameters can only be applied to functions and arrays",
        ["S0402"] = "Choice groups containing parameterized types are not supported",
        ["T0410"] = "Argument {index} of function {token} does not match function signature",
        ["T0411"] = "Context value is not a compatible type with argument {index} of function {token}",
        ["T0412"] = "Argument {index} of function {token} must be an array of the declared type",
        ["D1001"] = "Number out of range: {value}",
        ["D1002"] = "Cannot negate a non-numeric value: {value}",
        ["T1003"] = "Key in object structure must evaluate to a string; got: {value}",
        ["D1004"] = "Regular expression matches zero length string",
        ["T1005"] = "Attempted to invoke a non-function. Did you mean ${token}?",
        ["T1006"] = "Attempted to invoke a non-function",
        ["T1007"] = "Attempted to partially apply a non-function. Did you mean ${token}?",
        ["T1008"] = "Attempted to partially apply a non-function",
        ["D1009"] = "Multiple key definitions evaluate to same key: {value}",
        ["T1010"] = "The matcher function argument passed to function {token} does not return the correct object structure",
        ["D1011"] = "Stack overflow. Check for non-terminating recursive function. Consider rewriting as tail-recursive",
        ["D1012"] = "Evaluation timeout. Check for infinite loop",
        ["T2001"] = "The left side of the {token} operator must evaluate to a number",
        ["T2002"] = "The right side of the {token} operator must evaluate to a number",
        ["T2003"] = "The left side of the range operator (..) must evaluate to an integer",
        ["T2004"] = "The right side of the range operator (..) must evaluate to an integer",
        ["T2006"] = "The right side of the function application operator ~> must be a function",
        ["T2007"] = "Type mismatch when comparing values {value} and {value2} in order-by clause",
        ["T2008"] = "The expressions within an order-by clause must evaluate to numeric or string values",
        ["T2009"] = "The values {value} and {value2} either side of operator {token} must be of the same data type",
        ["T2010"] = "The expressions either side of operator {token} must evaluate to numeric or string values",
        ["T2011"] = "The insert/update clause of the transform expression must evaluate to an object: {value}",
        ["T2012"] = "The delete clause of the transform expression must evaluate to a string or array of strings: {value}",
        ["T2013"] = "The transform expression clones the input object using the $clone() function. This has been overridden in the current scope by a non-function.",
        ["D2014"] = "The size of the sequence allocated by the range operator (..) must not exceed 1e7. Attempted to allocate {value}.",
        ["D3001"] = "Attempting to invoke string function on Infinity or NaN",
        ["D3010"] = "Second argument of replace function cannot be an empty string",
        ["D3011"] = "Fourth argument of replace function must evaluate to a positive number",
        ["D3012"] = "Attempted to replace a matched string with a non-string value",
        ["D3020"] = "Third argument of split function must evaluate to a positive number",
        ["D3030"] = "Unable to cast value to a number: {value}",
        ["D3040"] = "Third argument of match function must evaluate to a positive number",
        ["D3050"] = "The second argument of reduce function must be a function with at least two arguments",
        ["D3060"] = "The sqrt function cannot be applied to a negative number: {value}",
        ["D3061"] = "The power function has resulted in a value that cannot be represented as a JSON number",
        ["D3070"] = "The single argument form of the sort function can only be applied to an array of strings or an array of numbers. Use the second argument to specify a comparison function",
        ["D3100"] = "The radix of the formatBase function must be between 2 and 36. It was given {value}",
        ["D3110"] = "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {value}",
        ["D3137"] = "{value}",
        ["D3138"] = "The $single() function expected exactly 1 matching result. Instead it matched more.",
        ["D3139"] = "The $single() function expected exactly 1 matching result. Instead it matched 0.",
        ["D3140"] = "Malformed URL passed to ${token}(): {value}",
        ["D3141"] = "{value}",
        ["D3200"] = "This implementation does not support the picture string or function: {value}",
    };
}
